"""One place for "may this user see or do this?" (404 for unknown, 403 for forbidden)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from releases.models import Repository

READ_PERMISSION = "releases.view_repository"


def require_reader(request: HttpRequest) -> None:
    if not request.user.has_perm(READ_PERMISSION):
        raise PermissionDenied("Your account has no role in ewsdash yet; ask an admin.")


def access_repository(request: HttpRequest, name: str, *, action: str | None = None) -> Repository:
    """The named repository if the user may read it (and perform `action`, if given)."""
    require_reader(request)
    repository = get_object_or_404(Repository, name=name)
    if action and not request.user.has_perm(f"releases.{action}"):
        raise PermissionDenied(f"Your role does not allow this ({action.replace('_', ' ')}).")
    return repository
