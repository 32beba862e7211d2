"""SIGKILL the worker in the middle of a check, start another: the run still finishes right.

Needs a broker that keeps unacknowledged messages (Redis); the embedded SQLite broker
hides a message once a worker took it. The reaper, called here the way
beat calls it, re-queues the check whose heartbeat stopped; the killed worker's own
message would come back only after Redis's visibility timeout (hours), and then finds
the check finished and does nothing (shown at the end with a deliberate redelivery).
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings

from monitoring import reaper, runs
from monitoring.models import CheckResult, ValidationRun
from releases.models import AuditEvent
from tests.support.worker import WorkerProcess, wait_for
from tests.validation_runs.conftest import commit_on, toml

pytestmark = [
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL.startswith("redis://"),
        reason="needs the Redis broker (the suite's PostgreSQL/Redis pass runs it)",
    ),
]

ROUNDS = 10
HEARTBEAT_TIMEOUT = 2.5


@pytest.fixture
def worker_factory(transactional_db, tmp_path, monkeypatch):
    from ewsdash.celery import app

    app.control.purge()
    monkeypatch.setenv("EWSDASH_CHECK_HEARTBEAT_INTERVAL", "1")
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        worker = WorkerProcess(tmp_path / f"worker-{len(started)}.log").start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def manifest(round_no: int) -> str:
    return toml(
        f"""
        [[check]]
        name = "quick"
        kind = "command"
        run = "echo round {round_no} > {{artifacts}}/quick.txt"

        [[check]]
        name = "slow"
        kind = "command"
        run = "echo started; sleep 1; echo round {round_no} > {{artifacts}}/slow.txt"
        """
    )


def test_a_killed_worker_loses_no_check_and_runs_none_twice(worker_factory, registered, world):
    began = time.monotonic()
    worker = worker_factory()
    for round_no in range(ROUNDS):
        sha = commit_on(
            world, "development", f"ci: round {round_no}", {"ewsdash.toml": manifest(round_no)}
        )
        run = runs.validation_run_start(
            repository=registered, commit=sha, actor="test", purpose="manual"
        )
        slow = run.checks.get(name="slow")
        wait_for(
            lambda slow=slow: CheckResult.objects.filter(pk=slow.pk, status="running").exists(),
            timeout=30,
            interval=0.05,
            message=f"round {round_no}: slow never started",
        )
        time.sleep(0.3)  # in the middle of the command
        worker.kill()
        worker = worker_factory()

        def settled(run=run):
            reaper.validation_reap_stale(heartbeat_timeout=HEARTBEAT_TIMEOUT)
            return ValidationRun.objects.get(pk=run.pk).is_finished

        wait_for(
            settled, timeout=40, interval=0.25, message=f"round {round_no}: the run did not finish"
        )
        run.refresh_from_db()
        quick = run.checks.get(name="quick")
        slow.refresh_from_db()
        assert run.status == "passed", (round_no, run.summary)
        assert (quick.status, quick.claims) == ("passed", 1)
        assert (slow.status, slow.claims) == ("passed", 2)
        assert [a.name for a in slow.artifacts.all()] == ["slow.txt"]
        finishes = AuditEvent.objects.filter(
            action="validation.check_finished", object_id=str(run.pk)
        ).values_list("payload__check", flat=True)
        assert sorted(finishes) == ["quick", "slow"]  # each result written once
    assert not CheckResult.objects.filter(status__in=["running", "queued", "waiting"]).exists()

    # A redelivered message for a finished check does nothing.
    from monitoring.tasks import check_result_run

    before = AuditEvent.objects.count()
    redelivered = check_result_run.delay(check_id=slow.pk)
    worker.wait_for_task(redelivered.id)
    slow.refresh_from_db()
    assert (slow.status, slow.claims) == ("passed", 2)
    assert AuditEvent.objects.count() == before
    elapsed = time.monotonic() - began
    print(f"{ROUNDS} worker kills survived in {elapsed:.1f}s")  # a figure, not a verdict
