"""One place for "may this user see or do this?".

Views call `access_repository` (404 for an unknown repository, 403 for a forbidden
action); services call `require_permission` themselves, so that no entry point (view,
command, task, API) can skip the check.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone

from releases.errors import ActionRefused
from releases.models import FreezeWindow, Repository

READ_PERMISSION = "releases.view_repository"


def require_reader(request: HttpRequest) -> None:
    if not request.user.has_perm(READ_PERMISSION):
        raise PermissionDenied("Your account has no role in ewsdash yet; ask an admin.")


def require_permission(actor: Any, codename: str) -> None:
    """Refuse (ActionRefused) unless `actor` is signed in and holds releases.<codename>."""
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(f"releases.{codename}"):
        raise ActionRefused(f"Your role does not allow this ({codename.replace('_', ' ')}).")


def repositories_with_freeze() -> QuerySet[Repository]:
    """Repositories annotated with their active freeze window, if any (one query)."""
    now = timezone.now()
    active = FreezeWindow.objects.filter(
        repository=OuterRef("pk"), starts_at__lte=now, ends_at__gt=now
    ).order_by("ends_at")
    return Repository.objects.annotate(
        freeze_id=Subquery(active.values("pk")[:1]),
        freeze_until=Subquery(active.values("ends_at")[:1]),
        freeze_reason=Subquery(active.values("reason")[:1]),
    )


def access_repository(request: HttpRequest, name: str, *, action: str | None = None) -> Repository:
    """The named repository if the user may read it (and perform `action`, if given).

    The layout reuses it (navigation, freeze banner) instead of fetching it again.
    """
    require_reader(request)
    repository = get_object_or_404(repositories_with_freeze(), name=name)
    if action and not request.user.has_perm(f"releases.{action}"):
        raise PermissionDenied(f"Your role does not allow this ({action.replace('_', ' ')}).")
    if action and repository.is_archived:
        raise PermissionDenied(f"{repository.name} is archived; its history is read-only.")
    request.ews_repository = repository  # type: ignore[attr-defined]
    return repository


def frozen_by(repository: Repository) -> FreezeWindow | None:
    """The active freeze of a repository fetched through `repositories_with_freeze`."""
    freeze_id = getattr(repository, "freeze_id", None)
    if freeze_id is None:
        return None
    return FreezeWindow(
        pk=freeze_id,
        repository=repository,
        ends_at=getattr(repository, "freeze_until"),  # noqa: B009 (an annotation)
        reason=getattr(repository, "freeze_reason"),  # noqa: B009
    )
