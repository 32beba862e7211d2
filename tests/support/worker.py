"""A real Celery worker process sharing the test database and broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

BASE = Path(__file__).resolve().parents[2]


def database_url_for_worker() -> str:
    """The URL of the database the tests are actually using (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgresql://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


class WorkerProcess:
    def __init__(
        self,
        log_path: Path,
        *,
        concurrency: int = 1,
        env: dict[str, str] | None = None,
        name: str = "",
    ) -> None:
        self.log_path = log_path
        self.concurrency = concurrency
        # Per-"host" settings (e.g. its own EWSDASH_CLONES_DIR) and Celery node name.
        self.extra_env = env or {}
        self.name = name
        self.process: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": database_url_for_worker(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "EWSDASH_VAR_DIR": str(settings.VAR_DIR),
            "EWSDASH_CLONES_DIR": str(settings.EWSDASH_CLONES_DIR),
            "EWSDASH_ARTIFACTS_DIR": str(settings.EWSDASH_ARTIFACTS_DIR),
            "EWSDASH_AUDIT_ANCHOR_FILE": str(settings.EWSDASH_AUDIT_ANCHOR_FILE),
            "EWSDASH_ATTESTATION_KEY": str(settings.EWSDASH_ATTESTATION_KEY),
            **self.extra_env,
        }

    def start(self) -> WorkerProcess:
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "ewsdash",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={self.concurrency}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                *([f"--hostname={self.name}@%h"] if self.name else []),
            ],
            cwd=BASE,
            env=self.env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log_path.read_text()[-3000:]}")
            if b"ready." in self.log_path.read_bytes():
                return
            time.sleep(0.1)
        raise RuntimeError(f"worker not ready:\n{self.log_path.read_text()[-3000:]}")

    def wait_for_task(self, task_id: str, timeout: float = 30) -> str:
        """Wait until this worker has run the task (its log says so); returns the line.

        For "a late duplicate changes nothing": assert after the duplicate ran, not after
        a pause that may be too short on a busy machine.
        """
        marks = (f"[{task_id}] succeeded", f"[{task_id}] raised", f"[{task_id}] retry")

        def line() -> str | None:
            for text in self.log_path.read_text(errors="replace").splitlines():
                if any(mark in text for mark in marks):
                    return text
            return None

        return wait_for(line, timeout=timeout, message=f"the worker never ran task {task_id}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """The test is over: end the worker and everything a check started, at once.

        No warm shutdown: an idle worker took 6 to 9 s to shut down here (the old 5 s
        time-out then killed it anyway), in every worker test's teardown. Nothing it
        would finish matters to a test that has ended; the next test purges the queue.
        """
        self.kill()
        self.log.close()


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.1, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or "condition not met in time")
