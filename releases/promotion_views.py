"""Pages and actions of the promotion workflow: candidates, rollback, hotfix, freeze."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from releases import candidate_selectors as selectors
from releases import candidates, freezes, operations, services
from releases.access import access_repository
from releases.errors import ActionRefused
from releases.gates import active_freeze
from releases.models import FreezeWindow, PromotionCandidate, Release


def _candidate(
    request: HttpRequest, name: str, pk: int, action: str | None = None
) -> PromotionCandidate:
    repository = access_repository(request, name, action=action)
    return get_object_or_404(
        PromotionCandidate.objects.select_related(
            "created_by",
            "validation_run",
            "validation_run__created_by",
            "waived_by",
            "promoted_by",
            "release",
        ),
        repository=repository,
        pk=pk,
    )


def refusals_as_messages(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A refused action shows its reason on the page it came from; nothing changed."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ActionRefused as error:
            messages.error(request, str(error))
            return redirect(page_it_came_from(request))

    return wrapper


def page_it_came_from(request: HttpRequest) -> str:
    """The form's `next`, else the Referer (browsers send a full URL), if it is on this
    site; the Overview otherwise."""
    for back in (request.POST.get("next", ""), request.META.get("HTTP_REFERER", "")):
        if back and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            parts = urlsplit(back)
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return "/"


# -- candidates ------------------------------------------------------------------------------


@require_safe
def candidate_list(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name)
    board = selectors.candidate_board(repository=repository)
    return render(request, "releases/candidates.html", {"repository": repository, "board": board})


@require_safe
def candidate_detail(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    candidate = _candidate(request, name, pk)
    candidate.repository = request.ews_repository  # type: ignore[attr-defined]
    page = selectors.candidate_page(candidate=candidate, user=request.user)
    template = (
        "releases/_candidate_body.html"
        if request.headers.get("HX-Request")
        else "releases/candidate.html"
    )
    return render(
        request,
        template,
        {"repository": candidate.repository, "page": page, "candidate": candidate},
    )


@require_POST
@refusals_as_messages
def candidate_create(request: HttpRequest, name: str) -> HttpResponse:
    """Records the intent and returns at once: a worker syncs with the origin and freezes
    the branch head; the operation's page shows how far it got."""
    repository = access_repository(request, name, action="create_candidate")
    operation = candidates.candidate_request(
        repository=repository,
        actor=request.user,
        source_branch=request.POST.get("source", ""),
        version=request.POST.get("version", ""),
    )
    messages.success(
        request,
        f"Candidate creation queued (operation #{operation.pk}): a worker reads "
        f"{operation.params['source']} from the origin and starts its staging validation.",
    )
    return redirect("operation_detail", name=name, pk=operation.pk)


def _candidate_done(request: HttpRequest, name: str, pk: int, message: str) -> HttpResponse:
    """Back to the page the decision was made on (model health, compare: their forms send
    `next`), else the candidate's page."""
    messages.success(request, message)
    if request.POST.get("next"):
        back = page_it_came_from(request)
        if back != "/":
            return redirect(back)
    return redirect("candidate_detail", name=name, pk=pk)


@require_POST
@refusals_as_messages
def candidate_approve(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    candidate = _candidate(request, name, pk, action="approve_candidate")
    candidates.candidate_approve(
        candidate=candidate, actor=request.user, comment=request.POST.get("comment", "")
    )
    return _candidate_done(request, name, pk, "Your approval is recorded.")


@require_POST
@refusals_as_messages
def candidate_reject(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    candidate = _candidate(request, name, pk, action="approve_candidate")
    candidates.candidate_reject(
        candidate=candidate, actor=request.user, reason=request.POST.get("reason", "")
    )
    return _candidate_done(request, name, pk, "The candidate is rejected.")


@require_POST
@refusals_as_messages
def candidate_rerun(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    candidate = _candidate(request, name, pk, action="rerun_validation")
    candidates.candidate_rerun_validation(candidate=candidate, actor=request.user)
    return _candidate_done(
        request, name, pk, "Validation re-run queued; earlier approvals are void."
    )


@require_POST
@refusals_as_messages
def candidate_waive(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    candidate = _candidate(request, name, pk, action="waive_check")
    candidates.candidate_waive_validation(
        candidate=candidate, actor=request.user, reason=request.POST.get("reason", "")
    )
    return _candidate_done(request, name, pk, "Validation waived.")


@require_POST
@refusals_as_messages
def candidate_approve_manifest(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    candidate = _candidate(request, name, pk, action="waive_check")
    candidates.candidate_approve_manifest(
        candidate=candidate, actor=request.user, reason=request.POST.get("reason", "")
    )
    return _candidate_done(
        request, name, pk, "Manifest change approved: validating again with its own manifest."
    )


@require_POST
@refusals_as_messages
def candidate_cancel(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    candidate = _candidate(request, name, pk, action="create_candidate")
    candidates.candidate_cancel(candidate=candidate, actor=request.user)
    return _candidate_done(request, name, pk, "The candidate is cancelled.")


@require_POST
@refusals_as_messages
def candidate_promote(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    candidate = _candidate(request, name, pk, action="promote_candidate")
    candidates.candidate_promote(
        candidate=candidate,
        actor=request.user,
        break_glass_reason=request.POST.get("break_glass_reason", ""),
    )
    return _candidate_done(
        request, name, pk, "Promotion started: the worker merges, tags and pushes."
    )


# -- rollback --------------------------------------------------------------------------------


def _release(request: HttpRequest, name: str, version: str, action: str | None = None) -> Release:
    repository = access_repository(request, name, action=action)
    return get_object_or_404(
        Release.objects.select_related("repository"), repository=repository, version=version
    )


@require_safe
def rollback_preview(request: HttpRequest, name: str, version: str) -> HttpResponse:
    target = _release(request, name, version, action="rollback_release")
    try:
        preview = operations.rollback_preview(repository=target.repository, target=target)
    except ActionRefused as error:
        messages.error(request, str(error))
        return redirect("release_detail", name=name, version=version)
    return render(
        request,
        "releases/rollback.html",
        {
            "repository": target.repository,
            "preview": preview,
            "freeze": active_freeze(target.repository),
        },
    )


@require_POST
@refusals_as_messages
def rollback_confirm(request: HttpRequest, name: str, version: str) -> HttpResponse:
    target = _release(request, name, version, action="rollback_release")
    if request.POST.get("confirm") != "yes":
        raise ActionRefused("Tick the confirmation box to roll production back.")
    operation = operations.release_rollback(
        repository=target.repository,
        target=target,
        actor=request.user,
        reason=request.POST.get("reason", ""),
        break_glass_reason=request.POST.get("break_glass_reason", ""),
    )
    messages.success(
        request, f"Rollback to {target.tag} queued: a worker commits, tags and pushes it."
    )
    return redirect("operation_detail", name=name, pk=operation.pk)


# -- hotfix, back-merge, freeze --------------------------------------------------------------


@require_POST
@refusals_as_messages
def hotfix_cut(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name, action="cut_hotfix")
    operation = operations.hotfix_cut(
        repository=repository, actor=request.user, name=request.POST.get("name", "")
    )
    messages.success(
        request,
        f"{operation.params['branch']} is being created from production's head. Push the fix "
        "to it, then create its candidate.",
    )
    return redirect("operation_detail", name=name, pk=operation.pk)


@require_POST
@refusals_as_messages
def back_merge(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name, action="merge_production")
    apply_rollbacks = request.POST.get("apply_rollbacks") == "yes"
    operation = operations.production_merge_into_development(
        repository=repository, actor=request.user, apply_rollbacks=apply_rollbacks
    )
    messages.success(
        request,
        "Merging production into development, applying the rollback there too: a worker "
        "merges and pushes."
        if apply_rollbacks
        else "Merging production into development (development keeps its content): a worker "
        "merges and pushes.",
    )
    return redirect("operation_detail", name=name, pk=operation.pk)


@require_POST
@refusals_as_messages
def backport_wont(request: HttpRequest, name: str, item_id: int) -> HttpResponse:
    repository = access_repository(request, name, action="merge_production")
    item = services.backport_wont(
        repository=repository,
        item_id=item_id,
        actor=request.user,
        reason=request.POST.get("reason", ""),
    )
    messages.success(request, f"{item.commit[:10]} will not be back-ported: {item.reason}")
    return redirect("repository_overview", name=name)


def _when(value: str, field: str) -> datetime:
    try:
        parsed = parse_datetime(value.strip()) if value else None
    except ValueError:  # well-formed but impossible, e.g. 2024-13-45 10:00
        parsed = None
    if parsed is None:
        raise ActionRefused(f"{field} must be a date and time (YYYY-MM-DD HH:MM).")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


@require_POST
@refusals_as_messages
def freeze_create(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name, action="manage_freeze")
    freezes.freeze_create(
        repository=repository,
        actor=request.user,
        starts_at=_when(request.POST.get("starts_at", ""), "Start"),
        ends_at=_when(request.POST.get("ends_at", ""), "End"),
        reason=request.POST.get("reason", ""),
    )
    messages.success(request, "Freeze window set.")
    return redirect("repository_overview", name=name)


@require_POST
@refusals_as_messages
def freeze_end(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    repository = access_repository(request, name, action="manage_freeze")
    window = get_object_or_404(FreezeWindow, repository=repository, pk=pk)
    freezes.freeze_end(window=window, actor=request.user)
    messages.success(request, "Freeze ended.")
    return redirect("repository_overview", name=name)
