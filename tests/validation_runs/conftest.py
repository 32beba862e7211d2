"""Git worlds whose commits declare a validation manifest, and a way to run checks inline."""

from __future__ import annotations

import textwrap

import pytest

from ewsdash import queue
from monitoring import execution
from monitoring.models import CheckResult, CheckStatus, ValidationRun


def toml(text: str) -> str:
    return textwrap.dedent(text).lstrip()


PASSING = toml(
    """
    [[check]]
    name = "unit-tests"
    kind = "command"
    run = "echo testing && test -f README.md"
    timeout = "1m"
    """
)


def commit_on(world, branch: str, message: str, files: dict[str, str]) -> str:
    """Commit `files` on `branch` of the world and push it; returns the new commit."""
    world.checkout(branch)
    sha = world.commit(message, files=files)
    world.push(branch)
    return sha


def run_queued_inline(*runs: ValidationRun, rounds: int = 20) -> None:
    """Run every queued check of these runs (and their references) in this process.

    What a worker does, without a broker: used where the test is about the services,
    not about Celery. Enqueueing must be switched off (`no_enqueue`).
    """
    ids = {run.pk for run in runs} | {run.reference_id for run in runs if run.reference_id}
    for _ in range(rounds):
        queued = list(
            CheckResult.objects.filter(run_id__in=ids, status=CheckStatus.QUEUED)
            .order_by("run_id", "position")
            .values_list("pk", flat=True)
        )
        if not queued:
            return
        for check_id in queued:
            execution.check_result_run(check_id=check_id, worker="inline", last_try=True)
    raise AssertionError("checks kept being queued")


@pytest.fixture
def no_enqueue(monkeypatch):
    """No broker messages: the test runs queued checks itself."""
    sent: list[int] = []

    def enqueue_on_commit(task: str, **kwargs) -> None:
        if task == queue.CHECK_RESULT_RUN:
            sent.append(kwargs["check_id"])

    monkeypatch.setattr(queue, "enqueue_on_commit", enqueue_on_commit)
    return sent


@pytest.fixture
def fast_heartbeat(settings):
    settings.EWSDASH_CHECK_HEARTBEAT_INTERVAL = 1
