"""The Deployment status page: models and ensembles at production's and development's
heads and at every release, and what changed between any two of them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from monitoring import deployment_selectors as selectors
from monitoring.deployments import config_changes
from releases.access import access_repository


@require_safe
def deployment_status(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name)
    board = selectors.deployment_board(repository=repository)
    live = board.live
    default_before = live.key if live else board.production.key
    before = board.point(request.GET.get("before", "")) or board.point(default_before)
    after = board.point(request.GET.get("after", "")) or board.development
    shown = board.point(request.GET.get("at", "")) or board.production
    changes = (
        config_changes(before.items, after.items)
        if before and before.items is not None and after.items is not None
        else None
    )
    return render(
        request,
        "monitoring/deployments.html",
        {
            "repository": repository,
            "board": board,
            "before": before,
            "after": after,
            "changes": changes,
            "shown": shown,
        },
    )
