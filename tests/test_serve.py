"""bin/serve keeps the site up: a dying worker or beat is restarted, Ctrl-C stops all."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent

FAKE = """\
#!{python}
# Stands in for `{name}`: records each start, dies as told, else waits to be stopped.
import os, sys, time
from pathlib import Path
log = Path({log!r})
role = "{name}:" + ("worker" if "worker" in sys.argv else "beat" if "beat" in sys.argv else "web")
with log.open("a") as out:
    out.write(f"{{role}} {{os.getpid()}}\\n")
starts = sum(1 for line in log.read_text().splitlines() if line.startswith(role + " "))
if role == "celery:worker" and starts <= 2:
    sys.exit(3)
while True:
    time.sleep(1)
"""


def wait_for(predicate, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, message
        time.sleep(0.1)


def starts(log: Path, role: str) -> list[int]:
    if not log.exists():
        return []
    return [
        int(line.split()[1]) for line in log.read_text().splitlines() if line.split()[0] == role
    ]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_dying_worker_is_restarted_with_back_off_and_the_site_stays_up(tmp_path):
    fake_bin, log = tmp_path / "bin", tmp_path / "starts.log"
    fake_bin.mkdir()
    for name in ("celery", "gunicorn"):
        script = fake_bin / name
        script.write_text(
            textwrap.dedent(FAKE.format(python=sys.executable, name=name, log=str(log)))
        )
        script.chmod(0o755)
    serve = subprocess.Popen(
        [sys.executable, str(BASE / "bin" / "serve")],
        env={**os.environ, "VENV_BIN": str(fake_bin), "EWSDASH_BIND": "127.0.0.1:8765"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Dies twice (pauses 2 s, then 4 s), then stays up.
        wait_for(lambda: len(starts(log, "celery:worker")) == 3, 30, "worker not restarted")
        web, beat = starts(log, "gunicorn:web"), starts(log, "celery:beat")
        assert len(web) == 1 and alive(web[0]), "the site went down with the worker"
        assert len(beat) == 1 and alive(beat[0])
    finally:
        serve.send_signal(signal.SIGINT)
        _, errors = serve.communicate(timeout=60)
    assert serve.returncode == 0
    assert "serving on http://127.0.0.1:8765" in errors
    assert errors.count("worker exited with status 3") == 2
    assert "restarting in 2s" in errors and "restarting in 4s" in errors
    every = starts(log, "celery:worker") + starts(log, "celery:beat") + starts(log, "gunicorn:web")
    wait_for(lambda: not any(alive(pid) for pid in every), 10, "a child outlived bin/serve")


def test_its_children_stop_when_bin_serve_is_killed(tmp_path):
    fake_bin, log = tmp_path / "bin", tmp_path / "starts.log"
    fake_bin.mkdir()
    for name in ("celery", "gunicorn"):
        script = fake_bin / name
        text = FAKE.format(python=sys.executable, name=name, log=str(log))
        script.write_text(text.replace("starts <= 2", "starts <= 0"))
        script.chmod(0o755)
    serve = subprocess.Popen(
        [sys.executable, str(BASE / "bin" / "serve")],
        env={**os.environ, "VENV_BIN": str(fake_bin), "EWSDASH_BIND": "127.0.0.1:8766"},
        stderr=subprocess.DEVNULL,
    )
    wait_for(
        lambda: len(log.read_text().splitlines()) == 3 if log.exists() else False,
        30,
        "the three processes did not start",
    )
    serve.kill()
    serve.wait()
    pids = [int(line.split()[1]) for line in log.read_text().splitlines()]
    wait_for(lambda: not any(alive(pid) for pid in pids), 10, "a child outlived bin/serve")
