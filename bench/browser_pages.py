"""Browser benchmark: navigation start to load event of each main page, in Chromium.

    .venv/bin/python bench/browser_pages.py [--runs 9] [--data DIR]

In a throw-away var folder (or --data, kept and reused on the next run): migrate,
collectstatic, `seed_demo`, then a Celery worker prepares the demo as `make demo` does
(sync, a validation of every release, rm-ana's candidate with its checks and drift job)
and is stopped. gunicorn then serves the site as `bin/serve` does (2 workers, DEBUG off,
whitenoise's hashed static files), and Chromium (/usr/bin/chromium through Playwright,
signed in as rm-ana) opens each main page: once in a fresh browser context (cold: plotly.js
and the other static files not yet cached), then --runs times (warm: as a user moving
between pages). Each figure is the Navigation Timing entry's loadEventEnd (milliseconds
from navigation start), and the page's transfer size.

The reference, measured in the same run and the same way: the login page (no query
beyond the session, no chart) and one static file.

Target (issue 13): warm median at most 300 ms for every page.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
VENV_BIN = Path(PY).parent
CHROMIUM = "/usr/bin/chromium"
TARGET_MS = 300
USER, PASSWORD = "rm-ana", "ewsdash-demo"  # seed_demo's release manager

DEMO_STATE = """
from monitoring.models import DriftJob, ValidationRun
from releases.models import PromotionCandidate
candidate = PromotionCandidate.objects.first()
print(int(candidate is not None and candidate.status != "validating"
          and not ValidationRun.objects.filter(status__in=["queued", "running"]).exists()
          and DriftJob.objects.filter(status="done").exists()))
"""

DEMO_URLS = """
import json
from django.urls import reverse
from monitoring.models import DriftJob, DriftResult, ValidationRun
from releases.models import PromotionCandidate, Release, Repository
repository = Repository.objects.get()
name = repository.name
candidate = PromotionCandidate.objects.get()
live = Release.objects.filter(repository=repository, on_production=True).latest("tagged_at")
older = Release.objects.filter(repository=repository).order_by("tagged_at").first()
job = DriftJob.objects.filter(status="done").latest("pk")
result = DriftResult.objects.filter(job=job).exclude(distribution=None).order_by("-effect").first()
run = candidate.validation_run
print(json.dumps([
    ["login (reference)", reverse("login")],
    ["overview", reverse("repository_overview", args=[name])],
    ["branches", reverse("branch_list", args=[name])],
    ["releases", reverse("release_list", args=[name])],
    ["release", reverse("release_detail", args=[name, live.version])],
    ["candidate", reverse("candidate_detail", args=[name, candidate.pk])],
    ["compare (candidate)", reverse("candidate_compare", args=[name, live.version, candidate.pk])],
    ["compare (releases)", reverse("release_compare", args=[name, older.version, live.version])],
    ["model health", reverse("model_health", args=[name])],
    ["drift charts", reverse("drift_overview", args=[name])],
    ["drift job charts", reverse("drift_job_charts", args=[name, job.pk])],
    ["drift result", reverse("drift_result", args=[name, job.pk, result.pk])],
    ["drift jobs", reverse("drift_job_list", args=[name])],
    ["validation run", reverse("validation_run_detail", args=[name, run.pk])],
    ["deployments", reverse("deployment_status", args=[name])],
    ["audit", reverse("audit")],
]))
"""

NAVIGATION = """() => {
  const entry = performance.getEntriesByType("navigation")[0];
  return {load: entry.loadEventEnd - entry.startTime, bytes: entry.transferSize,
          html: entry.encodedBodySize, ttfb: entry.responseStart - entry.startTime};
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)


def django_run(env: dict[str, str], code: str) -> str:
    return subprocess.run(
        [PY, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "ewsdash.settings"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def prepare_demo(env: dict[str, str], folder: Path) -> float:
    """Seed the demo and let a worker prepare it; the seconds it took."""
    began = time.monotonic()
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_demo")
    log = (folder / "worker.log").open("w")
    worker = subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "ewsdash", "worker", "--concurrency=2", "-l", "INFO"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 1200
        while django_run(env, DEMO_STATE) != "1":
            if time.monotonic() > deadline or worker.poll() is not None:
                raise SystemExit(f"the demo was not prepared; see {folder / 'worker.log'}")
            time.sleep(5)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=120)
    (folder / "prepared").write_text("yes\n")
    return time.monotonic() - began


def wait_for_web(base: str, web: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise SystemExit("gunicorn exited")
        try:
            with urllib.request.urlopen(base + "/login/", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer")


def timing(page, url: str) -> dict:
    response = page.goto(url, wait_until="load")
    if response is None or response.status != 200:
        raise SystemExit(f"{url} answered {response and response.status}")
    page.wait_for_function("performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
    return page.evaluate(NAVIGATION)


def measure(browser, base: str, state: dict, url: str, runs: int) -> dict:
    context = browser.new_context(base_url=base, storage_state=state)
    try:
        page = context.new_page()
        cold = timing(page, url)
        warm = [timing(page, url) for _ in range(runs)]
    finally:
        context.close()
    return {
        "cold": cold["load"],
        "median": statistics.median(w["load"] for w in warm),
        "max": max(w["load"] for w in warm),
        "ttfb": statistics.median(w["ttfb"] for w in warm),
        "html": cold["html"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--data", help="keep the prepared demo in this folder and reuse it")
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="ewsdash-browser-bench-") as scratch:
        folder = Path(options.data or scratch).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        env = {
            **os.environ,
            "EWSDASH_VAR_DIR": str(folder / "var"),
            "EWSDASH_BIND": f"127.0.0.1:{port}",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_DEBUG": "False",
        }
        for name in ("DATABASE_URL", "CELERY_BROKER_URL"):
            env.pop(name, None)
        if not (folder / "prepared").exists():
            print(f"demo prepared in {prepare_demo(env, folder):.0f} s")
        # A kept folder may predate the code's newest migration.
        manage(env, "migrate", "--noinput", "-v0")
        # Static files as a deployment serves them: hashed names, cached for good.
        manage(env, "collectstatic", "--noinput", "-v0")
        urls = json.loads(django_run(env, DEMO_URLS))
        base = f"http://127.0.0.1:{port}"
        static = django_run(
            env,
            "from django.templatetags.static import static; print(static('css/ewsdash.css'))",
        )
        urls.insert(1, ["static file (reference)", static])
        web = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "ewsdash.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(folder / "web.log").open("w"),
        )
        try:
            wait_for_web(base, web)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
                )
                context = browser.new_context(base_url=base)
                page = context.new_page()
                page.goto("/login/")
                page.fill("#id_username", USER)
                page.fill("#id_password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_selector("[data-testid=signed-in-user]")
                state = context.storage_state()
                context.close()
                rows = [
                    (label, measure(browser, base, state, url, options.runs)) for label, url in urls
                ]
                browser.close()
        finally:
            web.send_signal(signal.SIGTERM)
            web.wait(timeout=30)
    reference = rows[0][1]["median"]
    print(
        f"\n{'page':<24} {'cold':>7} {'median':>7} {'max':>7} {'x login':>8} "
        f"{'server':>7} {'HTML bytes':>11}  ok"
    )
    failures = 0
    for label, row in rows:
        ok = row["median"] <= TARGET_MS
        failures += not ok
        print(
            f"{label:<24} {row['cold']:>7.0f} {row['median']:>7.0f} {row['max']:>7.0f} "
            f"{row['median'] / reference:>8.2f} {row['ttfb']:>7.0f} {row['html']:>11,}  "
            f"{'yes' if ok else 'NO'}"
        )
    print(
        f"\nms from navigation start to the load event's end, Chromium, {options.runs} warm "
        f"runs per page (median, max) after one cold visit in a fresh context; server: "
        f"median time to the first byte of the page; "
        f"target: median <= {TARGET_MS} ms. load average: {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
