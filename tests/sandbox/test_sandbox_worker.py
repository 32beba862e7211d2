"""The sandbox on a real Celery worker: its secrets stay out of the log, and a SIGKILLed
worker leaves no process of its check alive (not even one started with `setsid`)."""

from __future__ import annotations

import pytest

from monitoring import runs
from monitoring.models import CheckResult, ValidationRun
from tests.sandbox.conftest import hostile, needs_bwrap
from tests.support.processes import processes_with
from tests.support.worker import WorkerProcess, wait_for
from tests.validation_runs.conftest import commit_on

pytestmark = [needs_bwrap, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SECRET = "w0rker-secret-3c9d"


@pytest.fixture
def secret_worker(transactional_db, tmp_path, monkeypatch):
    """A worker whose environment holds secrets, as a production worker's does."""
    from ewsdash.celery import app

    app.control.purge()
    monkeypatch.setenv("DJANGO_SECRET_KEY", SECRET)
    worker = WorkerProcess(tmp_path / "worker.log").start()
    yield worker
    worker.stop()


def test_a_worker_sigkill_leaves_no_process_of_the_check(secret_worker, registered, world):
    manifest = hostile(
        "hostile",
        """
        for f in /proc/*/environ; do tr '\\0' '\\n' < "$f"; done | grep -c SECRET_KEY
        setsid sleep 4101 < /dev/null > /dev/null 2>&1 &
        (setsid nohup sleep 4102 < /dev/null > /dev/null 2>&1 &)
        echo started; sleep 4103
        """,
    )
    sha = commit_on(world, "development", "ci: orphans on a worker", {"ewsdash.toml": manifest})
    run = runs.validation_run_start(
        repository=registered, commit=sha, actor="test", purpose="manual"
    )
    check = run.checks.get()

    def sleeping() -> set[str]:
        return {
            line.split(": ", 1)[1].strip()
            for line in processes_with("sleep 410")
            if line.split(": ", 1)[1].startswith("sleep")
        }

    wait_for(
        lambda: sleeping() == {"sleep 4101", "sleep 4102", "sleep 4103"},
        timeout=60,
        message="the check never started its three sleeps",
    )
    wait_for(
        lambda: "started" in CheckResult.objects.get(pk=check.pk).log,
        timeout=30,
        message="no live log",
    )
    live = CheckResult.objects.get(pk=check.pk)
    assert live.status == "running"
    assert SECRET not in live.log
    assert live.log.splitlines()[0] == "0"  # no process it can see has a SECRET_KEY

    secret_worker.kill()  # SIGKILL, the worker's whole process group (not the sandbox's)
    # bwrap's own command line holds the check's line too: it is gone as well.
    wait_for(
        lambda: not processes_with("sleep 410"),
        timeout=10,
        interval=0.05,
        message=f"processes of the check outlived its worker: {processes_with('sleep 410')}",
    )
    assert ValidationRun.objects.get(pk=run.pk).status == "running"  # the reaper's turn next
