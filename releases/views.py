from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.views.decorators.http import require_POST, require_safe

from releases import attestations, candidate_selectors, selectors, services
from releases.access import access_repository, require_reader


def _parse_when(text: str) -> datetime | None:
    """A date and time from a query string, or None when it is not one (2024-13-45 too)."""
    try:
        return parse_datetime(text.strip())
    except ValueError:
        return None


@require_safe
def overview(request: HttpRequest) -> HttpResponse:
    require_reader(request)
    repositories = list(selectors.repository_list())
    if len(repositories) == 1:
        return redirect("repository_overview", name=repositories[0].name)
    context = {
        "repositories": repositories,
        "waiting": candidate_selectors.waiting_for(user=request.user),
    }
    return render(request, "releases/overview.html", context)


@require_safe
def repository_overview(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name)
    context = {
        "repository": repository,
        "board": selectors.branch_board(repository=repository),
        "releases": selectors.release_board(repository=repository),
        "ledger": selectors.backport_ledger(repository=repository),
        "waiting": candidate_selectors.waiting_for(user=request.user, repository=repository),
        # Only admins see (and may change) the freeze windows.
        "freezes": selectors.freezes_current(repository=repository)
        if request.user.has_perm("releases.manage_freeze")
        else [],
    }
    return render(request, "releases/repository.html", context)


@require_safe
def branch_list(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name)
    board = selectors.branch_board(repository=repository)
    # After "Sync now" the page polls itself until the worker has finished.
    since = _parse_when(request.GET.get("since", ""))
    attempt = repository.last_sync_attempt_at
    waiting = since is not None and (attempt is None or attempt < since)
    template = (
        "releases/_branch_table.html"
        if request.headers.get("HX-Request")
        else "releases/branches.html"
    )
    context = {
        "repository": repository,
        "board": board,
        "waiting": waiting,
        "since": request.GET.get("since", ""),
    }
    return render(request, template, context)


@require_POST
def sync_now(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name, action="sync_repository")
    requested_at = timezone.now()
    services.repository_request_sync(repository=repository, actor=request.user)
    messages.info(request, f"Sync of {repository.name} queued.")
    url = reverse("branch_list", kwargs={"name": repository.name})
    return redirect(f"{url}?{urlencode({'since': requested_at.isoformat()})}")


RELEASES_PER_PAGE = 50


@require_safe
def release_list(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name)
    board = selectors.release_board(repository=repository)
    # Fifty a page: a history of a thousand releases stays quick to render and read.
    page = Paginator(board.releases, RELEASES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request, "releases/releases.html", {"repository": repository, "board": board, "page": page}
    )


@require_safe
def release_detail(request: HttpRequest, name: str, version: str) -> HttpResponse:
    repository = access_repository(request, name)
    detail = selectors.release_detail(repository=repository, version=version)
    context = {
        "repository": repository,
        "detail": detail,
        "public_key": attestations.current_public_key(),
    }
    return render(request, "releases/release.html", context)


@require_safe
def audit(request: HttpRequest) -> HttpResponse:
    require_reader(request)
    filters = {
        key: request.GET.get(key, "").strip() for key in ("repository", "action", "actor", "q")
    }
    events = selectors.audit_events(
        repository=filters["repository"],
        action=filters["action"],
        actor=filters["actor"],
        query=filters["q"],
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "releases/audit.html",
        {
            "page": page,
            "filters": filters,
            "actions": selectors.audit_action_names(),
            "repositories": selectors.repository_list(),
        },
    )
