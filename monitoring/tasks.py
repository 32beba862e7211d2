"""Celery tasks of staging validation: thin wrappers that load ids and call services."""

from __future__ import annotations

import os
import socket

from celery import shared_task
from django.conf import settings

from monitoring import execution, services

# Only a clone or worktree that could not be prepared is retried: a failing check is a
# verdict, and running it again until it passes would hide it.
RETRY_COUNTDOWN_S = 15


@shared_task(
    name="monitoring.tasks.run_check",
    bind=True,
    autoretry_for=(execution.WorktreeUnavailable,),
    max_retries=3,
    default_retry_delay=RETRY_COUNTDOWN_S,
    retry_backoff=False,
)
def run_check(self, *, check_id: int) -> str:  # type: ignore[no-untyped-def]
    worker = f"{self.request.hostname or socket.gethostname()} pid {os.getpid()}"
    last_try = self.request.retries >= self.max_retries
    return execution.check_execute(check_id=check_id, worker=worker, last_try=last_try)


@shared_task(name="monitoring.tasks.reap_stale_checks")
def reap_stale_checks() -> str:
    outcome = services.validation_reap_stale(
        heartbeat_timeout=settings.EWSDASH_CHECK_HEARTBEAT_TIMEOUT,
        resend_after=max(600, 10 * settings.EWSDASH_CHECK_HEARTBEAT_TIMEOUT),
    )
    return (
        f"re-queued {len(outcome.requeued)}, abandoned {len(outcome.abandoned)}, "
        f"cancelled {len(outcome.cancelled)}, re-sent {len(outcome.resent)}"
    )


@shared_task(name="monitoring.tasks.validate_releases")
def validate_releases(*, repository_id: int) -> str:
    """Queue a validation run for every release on production that lacks one."""
    from monitoring.services import validation_runs_for_releases
    from releases.models import Repository

    repository = Repository.objects.filter(pk=repository_id).first()
    if repository is None:
        return "repository gone"
    runs = validation_runs_for_releases(repository=repository, actor=None)
    return f"{len(runs)} release runs"


@shared_task(name="monitoring.tasks.drift_part")
def drift_part(*, job_id: int, part: int) -> str:
    from monitoring.drift_jobs import drift_part_run

    return drift_part_run(job_id=job_id, part=part)


@shared_task(name="monitoring.tasks.record_deployment_statuses")
def record_deployment_statuses(*, repository_id: int) -> str:
    """Read the models and deployment statuses of releases not read yet (after a sync)."""
    from monitoring.deployments import deployment_statuses_record
    from releases.models import Repository

    repository = Repository.objects.filter(pk=repository_id).first()
    if repository is None:
        return "repository gone"
    return f"{deployment_statuses_record(repository=repository)} releases read"
