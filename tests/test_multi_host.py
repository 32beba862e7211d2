"""Two "hosts" share the queue; one dies mid-way; every result is written exactly once.

Each worker process stands for a machine: its own EWSDASH_CLONES_DIR (cache clones and
the validation worktrees under it), so neither sees the other's git; they share the
database, the broker and the artifact store, as the README's multi-host section says.
This test process is a third host (the web): it starts the work and, as the reaper,
reconciles the dead worker's operation from a clone it builds for itself.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from monitoring import drift_jobs, reaper, runs
from monitoring.models import CheckResult, DriftResult, ValidationRun
from releases import candidates, operation_runner, services, sync
from releases.clones import clone_dir
from releases.models import AuditEvent, Incident, Operation, Release
from tests.drift_jobs.drift_job_factories import runs_with_predictions
from tests.promotion.conftest import make_promotable, waive
from tests.support.worker import WorkerProcess, wait_for
from tests.validation_runs.conftest import commit_on, toml

pytestmark = [
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (
            django_settings.CELERY_BROKER_URL.startswith("redis://")
            and django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
        ),
        reason="needs PostgreSQL and Redis (the suite's PostgreSQL/Redis pass runs it)",
    ),
]

MANIFEST = toml(
    """
    [[check]]
    name = "quick"
    kind = "command"
    run = "echo quick > {artifacts}/quick.txt"

    [[check]]
    name = "slow"
    kind = "command"
    run = "echo started; sleep 2; echo slow > {artifacts}/slow.txt"
    """
)


@pytest.fixture
def hosts(transactional_db, tmp_path, monkeypatch):
    from ewsdash.celery import app

    app.control.purge()
    monkeypatch.setenv("EWSDASH_CHECK_HEARTBEAT_INTERVAL", "1")
    started: dict[str, WorkerProcess] = {}

    def start(name: str) -> WorkerProcess:
        clones = tmp_path / name / "clones"
        worker = WorkerProcess(
            tmp_path / f"{name}.log", env={"EWSDASH_CLONES_DIR": str(clones)}, name=name
        ).start()
        worker.clones = clones  # type: ignore[attr-defined]
        started[name] = worker
        return worker

    yield start
    for worker in started.values():
        worker.stop()


def test_two_hosts_share_the_queue_and_one_killed_mid_push_loses_nothing(
    hosts, users, world, tmp_path, settings
):
    began = time.monotonic()
    # Before the workers start: an approved candidate (its own validation waived), a
    # branch with a validation manifest, two runs with predictions for a drift job.
    make_promotable(world)
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    sync.repository_sync(repository=repository)
    candidate = candidates.candidate_create(repository=repository, actor=users["rm-ana"])
    candidate.refresh_from_db()
    waive(candidate, users)
    candidates.candidate_approve(candidate=candidate, actor=users["rm-ben"])
    candidates.candidate_approve(candidate=candidate, actor=users["admin"])
    world.checkout("feature/checks", new_from="development")
    checked = commit_on(world, "feature/checks", "ci: checks", {"ewsdash.toml": MANIFEST})
    reference, current = runs_with_predictions()

    host_a, host_b = hosts("host-a"), hosts("host-b")
    # The origin is slow to finish a push (its refs already moved): long enough to kill.
    marker = tmp_path / "refs-moved"
    hook = Path(world.origin) / "hooks" / "post-receive"
    hook.write_text(f"#!/bin/sh\ncat >/dev/null\ntouch {marker}\nsleep 120\n")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)

    run = runs.validation_run_start(
        repository=repository, commit=checked, actor="test", purpose="manual"
    )
    job = drift_jobs.drift_job_start(
        repository=repository,
        reference_run=reference,
        current_run=current,
        actor=users["analyst"],
        reference_label="v1.0.0",
        current_label="candidate",
    )
    candidates.candidate_promote(candidate=candidate, actor=users["rm-ben"])
    wait_for(marker.exists, timeout=90, message="the promotion never pushed")

    operation = Operation.objects.get(candidate=candidate)
    holder = int(operation.claimed_by.rsplit(":", 1)[1])  # the pool process, in its group
    victim, survivor = (
        (host_a, host_b) if os.getpgid(holder) == host_a.process.pid else (host_b, host_a)
    )
    victim.kill()
    hook.unlink()

    settings.EWSDASH_OPERATION_STALE_AFTER = 2

    def settled() -> bool:
        # What beat does on every host's schedule: both reapers.
        reaper.validation_reap_stale(heartbeat_timeout=3)
        operation_runner.operations_reap_stale()
        return (
            ValidationRun.objects.get(pk=run.pk).is_finished
            and type(job).objects.get(pk=job.pk).is_finished
            and not Operation.objects.get(pk=operation.pk).is_active
        )

    wait_for(settled, timeout=180, interval=0.5, message="the work did not settle")

    # The validation: every check once, passed, its artifact once.
    run.refresh_from_db()
    assert run.status == "passed", run.summary
    for check in CheckResult.objects.filter(run=run):
        assert check.status == "passed"
        assert [a.name for a in check.artifacts.all()] == [f"{check.name}.txt"]
    finished = AuditEvent.objects.filter(
        action="validation.check_finished", object_id=str(run.pk)
    ).values_list("payload__check", flat=True)
    assert sorted(finished) == ["quick", "slow"]

    # The drift job: every part once, every (model, column) once.
    job.refresh_from_db()
    assert job.status == "done" and job.parts_done == job.parts_total == 4
    results = list(DriftResult.objects.filter(job=job).values_list("model", "column"))
    assert len(results) == len(set(results)) == 16

    # The promotion: its push landed before the kill; reconciled, recorded once.
    operation.refresh_from_db()
    assert (operation.status, operation.reconciled) == ("succeeded", True), operation.error
    candidate.refresh_from_db()
    assert candidate.status == "released"
    release = Release.objects.get(repository=repository, version=candidate.version)
    assert world.origin_git("rev-parse", f"{release.tag}^{{commit}}") == release.commit
    assert world.origin_git("rev-parse", "production") == release.commit
    assert AuditEvent.objects.filter(action="candidate.released").count() == 1
    sync.repository_sync(repository=repository, force=True)
    assert not Incident.objects.exists()

    # Each machine built its own cache clone from the origin; none shares another's.
    assert (survivor.clones / "pipeline.git").is_dir()  # type: ignore[attr-defined]
    assert clone_dir("pipeline").is_dir()  # this process's, built to reconcile
    print(
        f"\ntwo hosts, one killed mid-push: settled in {time.monotonic() - began:.1f} s; "
        f"killed {victim.name}, {survivor.name} finished the rest"
    )
