"""Pages of git operations and incidents: progress, the admin's reconcile, acknowledgement."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from releases import incidents, operation_runner, operations
from releases.access import access_repository
from releases.errors import ActionRefused
from releases.models import Incident, Operation, Release
from releases.promotion_views import refusals_as_messages


def _operation(request: HttpRequest, name: str, pk: int, action: str | None = None) -> Operation:
    repository = access_repository(request, name, action=action)
    return get_object_or_404(
        Operation.objects.select_related("repository", "requested_by", "candidate"),
        repository=repository,
        pk=pk,
    )


@require_safe
def operation_list(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name)
    rows = Operation.objects.filter(repository=repository).select_related(
        "requested_by", "candidate"
    )[:100]
    return render(
        request, "releases/operations.html", {"repository": repository, "operations": rows}
    )


@require_safe
def operation_detail(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    operation = _operation(request, name, pk)
    context = {
        "repository": operation.repository,
        "operation": operation,
        "stale": operation_runner.operation_is_stale(operation),
        "stale_after": operation_runner.stale_after(),
    }
    template = (
        "releases/_operation_body.html"
        if request.headers.get("HX-Request")
        else "releases/operation.html"
    )
    return render(request, template, context)


@require_POST
@refusals_as_messages
def operation_reconcile(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    operation = _operation(request, name, pk, action="reconcile_operation")
    summary = operation_runner.operation_reconcile(operation=operation, actor=request.user)
    messages.success(request, f"Reconciled with the origin: {summary}")
    return redirect("operation_detail", name=name, pk=pk)


@require_safe
def incident_list(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name)
    rows = list(
        Incident.objects.filter(repository=repository).select_related(
            "acknowledged_by", "operation"
        )[:100]
    )
    releases = Release.objects.filter(repository=repository, on_production=True).order_by(
        "-tagged_at"
    )[:50]
    for incident in rows:
        incident.suggested = (  # type: ignore[attr-defined]
            incidents.incident_rollback_target(incident) if incident.is_open else None
        )
    return render(
        request,
        "releases/incidents.html",
        {
            "repository": repository,
            "incidents": rows,
            "rollback_targets": releases,
        },
    )


@require_POST
@refusals_as_messages
def incident_acknowledge(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    repository = access_repository(request, name, action="acknowledge_incident")
    incident = get_object_or_404(Incident, repository=repository, pk=pk)
    resolution = request.POST.get("resolution", "")
    target = None
    version = request.POST.get("rollback_to", "")
    if resolution == "rolled_back":
        target = Release.objects.filter(repository=repository, version=version).first()
        if target is None:
            raise ActionRefused("Choose the release to roll back to.")
    operation = operations.incident_acknowledge(
        incident=incident,
        actor=request.user,
        resolution=resolution,
        reason=request.POST.get("reason", ""),
        rollback_to=target,
    )
    if operation is not None:
        messages.success(request, f"Incident acknowledged; rollback to {target} queued.")
        return redirect("operation_detail", name=name, pk=operation.pk)
    messages.success(request, "Incident acknowledged; promotions are open again.")
    return redirect("incident_list", name=name)
