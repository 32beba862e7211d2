"""Soak: the embedded stack (bin/serve: web + worker + beat) under steady work, no crash.

    .venv/bin/python bench/soak.py [--minutes 30] [--sync-every 20] [--validate-every 60]

In a throw-away var folder: migrate, seed the demo, start `bin/serve` with beat syncing
every 5 s and the reaper every 5 s, then for --minutes queue a sync every --sync-every
seconds and a validation of development's head every --validate-every seconds (new
commits are pushed to the demo origin between validations, so every run does real work),
and request the Overview every 2 s. It reports how often a process of bin/serve died
(must be 0), the syncs and validations done, and the pages served; it exits non-zero on
any crash, failed page or unfinished run.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


SHELL_QUEUE = """
import sys
from releases.models import Repository
from releases import services
from monitoring import runs
from django.contrib.auth import get_user_model
what = sys.argv[1]
repository = Repository.objects.get()
user = get_user_model().objects.get(username="rm-ana")
if what == "sync":
    services.repository_request_sync(repository=repository, actor=user)
else:
    run = runs.validation_run_start(repository=repository, commit=repository.development_branch,
                                    actor=user, purpose="manual")
    print(run.pk)
"""

SHELL_STATE = """
from monitoring.models import ValidationRun
from releases.models import AuditEvent
runs = list(ValidationRun.objects.filter(purpose="manual").values_list("status", flat=True))
print(len(runs), sum(s in ("passed", "failed") for s in runs),
      sum(s in ("queued", "running") for s in runs),
      AuditEvent.objects.filter(action="repository.synced").count(),
      AuditEvent.objects.filter(action="repository.sync_requested").count())
"""


def django_run(env: dict[str, str], code: str, *args: str) -> str:
    return subprocess.run(
        [
            PY,
            "-c",
            "import django, sys; django.setup(); sys.argv = ['x', *sys.argv[1:]]\n" + code,
            *args,
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "ewsdash.settings"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def push_commit(origin: Path, work: Path, n: int) -> None:
    if not work.exists():
        subprocess.run(
            ["git", "clone", "-q", "-b", "development", str(origin), str(work)], check=True
        )
    (work / "soak.txt").write_text(f"{n}\n")
    git = ["git", "-C", str(work), "-c", "user.name=soak", "-c", "user.email=soak@example.org"]
    subprocess.run([*git, "add", "soak.txt"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", f"chore: soak {n}"], check=True)
    subprocess.run([*git, "push", "-q", "origin", "development"], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--sync-every", type=float, default=20)
    parser.add_argument("--validate-every", type=float, default=60)
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ewsdash-soak-"))
    port = free_port()
    env = {
        **os.environ,
        "EWSDASH_VAR_DIR": str(work / "var"),
        "EWSDASH_SYNC_INTERVAL": "5",
        "EWSDASH_REAPER_INTERVAL": "5",
        "EWSDASH_BIND": f"127.0.0.1:{port}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    env.pop("DATABASE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    manage(env, "seed_demo")
    origin = work / "var" / "demo" / "views-pipeline.git"
    # A file, not a pipe: nobody reads a pipe until the end, and once it is full every
    # process of bin/serve would block writing its log.
    serve_log = work / "serve.log"
    serve = subprocess.Popen(
        [PY, str(ROOT / "bin" / "serve")],
        cwd=ROOT,
        env=env,
        stdout=serve_log.open("w"),
        stderr=subprocess.STDOUT,
    )
    started = time.monotonic()
    end = started + options.minutes * 60
    next_sync = next_validation = next_page = started + 15
    pages_ok = pages_failed = validations = 0
    try:
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_page:
                next_page = now + 2
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=10) as r:
                        pages_ok += r.status == 200
                except (urllib.error.URLError, OSError):
                    pages_failed += 1
            if now >= next_sync:
                next_sync = now + options.sync_every
                django_run(env, SHELL_QUEUE, "sync")
            if now >= next_validation:
                next_validation = now + options.validate_every
                push_commit(origin, work / "dev", validations)
                django_run(env, SHELL_QUEUE, "validate")
                validations += 1
            time.sleep(0.5)
        # Let the last validation finish before counting.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            total, finished, pending, synced, requested = map(
                int, django_run(env, SHELL_STATE).split()
            )
            if pending == 0:
                break
            time.sleep(5)
    finally:
        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=120)
        log = serve_log.read_text(errors="replace")
    crashes = re.findall(r"\[serve\] (\w+) exited with status", log)
    minutes = (time.monotonic() - started) / 60
    print(f"soak: {minutes:.1f} min of web + worker + beat (beat every 5 s), embedded stack")
    print(f"  logs: {serve_log}")
    print(f"  process deaths (restarted by bin/serve): {len(crashes)} {sorted(set(crashes))}")
    print(f"  syncs asked: {requested}, syncs that recorded changes: {synced}")
    print(f"  validations queued: {total}, finished: {finished}, still pending: {pending}")
    print(f"  pages served: {pages_ok}, failed: {pages_failed}")
    ok = not crashes and pages_failed == 0 and pending == 0 and finished == total == validations
    print("  verdict:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
