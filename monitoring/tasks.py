"""Celery tasks of monitoring: thin wrappers named after the service they call."""

from __future__ import annotations

import os
import socket

from django.conf import settings

from ewsdash import queue
from ewsdash.celery import app
from monitoring import deployments, drift_jobs, execution, reaper, runs, skill_alerts, skill_ledger
from releases.models import Repository

# Only a clone or worktree that could not be prepared is retried: a failing check is a
# verdict, and running it again until it passes would hide it.
RETRY_COUNTDOWN_S = 15


@app.task(
    name="monitoring.tasks.check_result_run",
    bind=True,
    autoretry_for=(execution.WorktreeUnavailable,),
    max_retries=3,
    default_retry_delay=RETRY_COUNTDOWN_S,
    retry_backoff=False,
)
def check_result_run(self, *, check_id: int) -> str:  # type: ignore[no-untyped-def]
    worker = f"{self.request.hostname or socket.gethostname()} pid {os.getpid()}"
    last_try = self.request.retries >= self.max_retries
    return execution.check_result_run(check_id=check_id, worker=worker, last_try=last_try)


@app.task(name="monitoring.tasks.validation_reap_stale")
def validation_reap_stale() -> str:
    outcome = reaper.validation_reap_stale(
        heartbeat_timeout=settings.EWSDASH_CHECK_HEARTBEAT_TIMEOUT,
        resend_after=max(600, 10 * settings.EWSDASH_CHECK_HEARTBEAT_TIMEOUT),
    )
    return (
        f"re-queued {len(outcome.requeued)}, abandoned {len(outcome.abandoned)}, "
        f"cancelled {len(outcome.cancelled)}, re-sent {len(outcome.resent)}, "
        f"external timed out {len(outcome.timed_out)}"
    )


@app.task(name="monitoring.tasks.validation_runs_for_releases")
def validation_runs_for_releases(*, repository_id: int) -> str:
    """Queue a validation run for every release on production that lacks one."""
    repository = Repository.objects.filter(pk=repository_id).first()
    if repository is None:
        return "repository gone"
    started = runs.validation_runs_for_releases(repository=repository, actor=None)
    return f"{len(started)} release runs"


@app.task(name="monitoring.tasks.drift_part_run")
def drift_part_run(*, job_id: int, part: int) -> str:
    return drift_jobs.drift_part_run(job_id=job_id, part=part)


@app.task(name="monitoring.tasks.deployment_configs_record")
def deployment_configs_record(*, repository_id: int) -> str:
    """Read the model and ensemble configs of releases and heads not read yet (after a sync)."""
    repository = Repository.objects.filter(pk=repository_id).first()
    if repository is None:
        return "repository gone"
    return f"{deployments.deployment_configs_record(repository=repository)} commits read"


@app.task(name="monitoring.tasks.skill_ledger_update")
def skill_ledger_update(*, repository_id: int) -> str:
    """Score production releases' forecasts against outcomes that arrived or changed."""
    repository = Repository.objects.filter(pk=repository_id).first()
    if repository is None:
        return "repository gone"
    result = skill_ledger.skill_ledger_update(repository=repository)
    opened = skill_alerts.skill_alerts_check(repository=repository)
    return f"{result}; {len(opened)} skill incidents opened"


@app.task(name="monitoring.tasks.skill_ledger_update_all")
def skill_ledger_update_all() -> str:
    """Beat: one ledger update per repository that has outcomes."""
    with_outcomes = Repository.objects.filter(outcomes__isnull=False).distinct()
    ids = list(with_outcomes.values_list("pk", flat=True))
    for pk in ids:
        queue.enqueue(queue.SKILL_LEDGER_UPDATE, repository_id=pk)
    return f"{len(ids)} ledger updates queued"
