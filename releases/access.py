"""One place for "may this user see or do this?" (404 for unknown, 403 for forbidden)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone

from releases.models import FreezeWindow, Repository

READ_PERMISSION = "releases.view_repository"


def require_reader(request: HttpRequest) -> None:
    if not request.user.has_perm(READ_PERMISSION):
        raise PermissionDenied("Your account has no role in ewsdash yet; ask an admin.")


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
    request.ews_repository = repository  # type: ignore[attr-defined]
    return repository


def frozen_by(repository: Repository) -> FreezeWindow | None:
    """The active freeze of a repository fetched through `repositories_with_freeze`."""
    if getattr(repository, "freeze_id", None) is None:
        return None
    return FreezeWindow(
        pk=repository.freeze_id,
        repository=repository,  # type: ignore[attr-defined]
        ends_at=repository.freeze_until,  # type: ignore[attr-defined]
        reason=repository.freeze_reason,
    )  # type: ignore[attr-defined]
