"""Celery tasks: thin wrappers that load rows by id and call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.contrib.auth import get_user_model

from releases import services
from releases.models import Repository

log = logging.getLogger(__name__)


@shared_task(name="releases.tasks.sync_repository")
def sync_repository(*, repository_id: int, actor_id: int | None = None) -> str:
    repository = Repository.objects.filter(pk=repository_id).first()
    if repository is None:
        return "repository gone"
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    return services.repository_sync(repository=repository, actor=actor).summary


@shared_task(name="releases.tasks.sync_all_repositories")
def sync_all_repositories() -> None:
    """Beat's periodic sync: one task per repository so a slow origin delays no other."""
    for repository_id in Repository.objects.values_list("pk", flat=True):
        sync_repository.delay(repository_id=repository_id)


@shared_task(name="releases.tasks.promote_candidate")
def promote_candidate(*, candidate_id: int) -> str:
    """Merge, tag and push one approved candidate. Safe to run twice: see promotion_run."""
    from releases.promotion import promotion_run

    return promotion_run(candidate_id=candidate_id)


@shared_task(name="releases.tasks.create_candidate")
def create_candidate(*, repository_id: int, username: str, source_branch: str = "") -> str:
    """Freeze a branch head as a candidate on behalf of a user (seed_demo's first one)."""
    from releases.errors import ActionRefused
    from releases.promotion import candidate_create

    repository = Repository.objects.filter(pk=repository_id).first()
    user = get_user_model().objects.filter(username=username).first()
    if repository is None or user is None:
        return "repository or user gone"
    try:
        candidate = candidate_create(repository=repository, actor=user, source_branch=source_branch)
    except ActionRefused as error:
        return f"no candidate: {error}"
    return f"candidate #{candidate.pk} ({candidate.version})"
