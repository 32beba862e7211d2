"""Celery tasks: thin wrappers named after the service they call, which load rows by id."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model

from ewsdash.celery import app
from releases import candidates, forge, forge_reviews, merges, operation_runner, services, sync
from releases.errors import ActionRefused
from releases.models import AuditEvent, Forge, PromotionCandidate, Repository

log = logging.getLogger(__name__)


@app.task(name="releases.tasks.repository_sync")
def repository_sync(*, repository_id: int, actor_id: int | None = None) -> str:
    repository = Repository.objects.filter(pk=repository_id).first()
    if repository is None:
        return "repository gone"
    if repository.is_archived:
        return f"{repository.name} is archived"
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    return sync.repository_sync(repository=repository, actor=actor).summary


@app.task(name="releases.tasks.branch_merges_record")
def branch_merges_record(*, repository_id: int) -> str:
    """Find branches squash-merged or cherry-picked into production or development."""
    repository = Repository.objects.filter(pk=repository_id).first()
    if repository is None:
        return "repository gone"
    return f"{merges.branch_merges_record(repository=repository)} branches checked"


@app.task(name="releases.tasks.repositories_sync_all")
def repositories_sync_all() -> None:
    """Beat's periodic sync: one task per repository so a slow origin delays no other."""
    live = Repository.objects.filter(archived_at__isnull=True)
    for repository_id in live.values_list("pk", flat=True):
        repository_sync.delay(repository_id=repository_id)


@app.task(name="releases.tasks.candidate_promote")
def candidate_promote(*, candidate_id: int) -> str:
    """A message queued before operations existed: run the candidate's promote operation."""
    return operation_runner.promotion_run(candidate_id=candidate_id)


@app.task(name="releases.tasks.operation_run")
def operation_run(*, operation_id: int) -> str:
    """One git write (promote, rollback, hotfix cut, back-merge). Safe to deliver twice."""
    return operation_runner.operation_run(operation_id=operation_id)


@app.task(name="releases.tasks.operations_reap_stale")
def operations_reap_stale() -> str:
    """Beat: reconcile operations whose worker died, resend messages lost on the way."""
    outcome = operation_runner.operations_reap_stale(
        resend_after=settings.EWSDASH_OPERATION_STALE_AFTER
    )
    return ", ".join(f"{key}: {value}" for key, value in outcome.items())


@app.task(name="releases.tasks.candidate_create")
def candidate_create(*, repository_id: int, username: str, source_branch: str = "") -> str:
    """Freeze a branch head as a candidate on behalf of a user (seed_demo's first one)."""
    repository = Repository.objects.filter(pk=repository_id).first()
    user = get_user_model().objects.filter(username=username).first()
    if repository is None or user is None:
        return "repository or user gone"
    try:
        candidate = candidates.candidate_create(
            repository=repository, actor=user, source_branch=source_branch
        )
    except ActionRefused as error:
        return f"no candidate: {error}"
    return f"candidate #{candidate.pk} ({candidate.version})"


@app.task(name="releases.tasks.candidates_catch_up")
def candidates_catch_up() -> str:
    """Validating candidates whose run finished while the follow-up was lost."""
    return f"{candidates.candidates_catch_up()} runs followed up"


@app.task(name="releases.tasks.backports_flag_overdue")
def backports_flag_overdue() -> str:
    """Tell release managers of back-ports waiting longer than a week (once each)."""
    return f"{services.backports_flag_overdue()} back-ports overdue"


@app.task(name="releases.tasks.candidate_gates_publish")
def candidate_gates_publish(*, candidate_id: int) -> str:
    """Post the candidate's ewsdash/gates commit status on its forge (github mode), after
    counting the pull request's approving reviews (when the repository allows it) and
    opening the pull request if an earlier attempt failed."""
    candidate = PromotionCandidate.objects.select_related("repository").filter(pk=candidate_id)
    found = candidate.first()
    if found is not None and found.repository.forge != Forge.DIRECT and found.is_open:
        if (
            not found.forge_pull_request
            and AuditEvent.objects.filter(
                action="forge.pull_request_failed", object_id=str(candidate_id)
            ).exists()
        ):
            # Only after a failed attempt: the first one is its own task, maybe running now.
            forge.candidate_pull_request_open(candidate_id=candidate_id)
            found.refresh_from_db()
        forge_reviews.candidate_reviews_import(candidate=found)
    return forge.candidate_gates_publish(candidate_id=candidate_id)


@app.task(name="releases.tasks.candidate_pull_request_open")
def candidate_pull_request_open(*, candidate_id: int) -> str:
    """Push the candidate's branch and open its pull request into production (github mode)."""
    return forge.candidate_pull_request_open(candidate_id=candidate_id)
