"""The drift job pages: the list with its start form, one job with its results."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from monitoring import drift_jobs, drift_selectors
from monitoring.models import ValidationRun
from releases.access import access_repository
from releases.errors import ActionRefused


@require_safe
def drift_job_list(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name)
    context = {
        "repository": repository,
        "jobs": list(drift_selectors.drift_job_list(repository=repository)),
    }
    if request.user.has_perm("releases.start_drift_job"):
        runs = drift_selectors.drift_run_choices(repository=repository)
        context["run_choices"] = runs
        context["model_choices"] = drift_selectors.drift_model_choices(
            run_ids=[choice.run_id for choice in runs]
        )
    return render(request, "monitoring/drift_job_list.html", context)


def _run_from_form(request: HttpRequest, field: str, repository_id: int) -> ValidationRun:
    value = request.POST.get(field, "")
    run = (
        ValidationRun.objects.filter(repository_id=repository_id, pk=int(value)).first()
        if value.isdigit()
        else None
    )
    if run is None:
        raise ActionRefused(f"Choose the {field.replace('_', ' ')} from the list.")
    return run


@require_POST
def drift_job_start(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name, action="start_drift_job")
    try:
        reference = _run_from_form(request, "reference_run", repository.pk)
        current = _run_from_form(request, "current_run", repository.pk)
        choices = drift_selectors.drift_run_choices(repository=repository)
        labels = {choice.run_id: choice.label for choice in choices}
        model = request.POST.get("model", "").strip()
        job = drift_jobs.drift_job_start(
            repository=repository,
            reference_run=reference,
            current_run=current,
            actor=request.user,
            models=[model] if model else [],
            reference_label=labels.get(reference.pk) or drift_jobs.run_label(reference),
            current_label=labels.get(current.pk) or drift_jobs.run_label(current),
        )
    except ActionRefused as error:
        messages.error(request, str(error))
        return redirect("drift_job_list", name=repository.name)
    return redirect("drift_job_detail", name=repository.name, job_id=job.pk)


@require_safe
def drift_job_detail(request: HttpRequest, name: str, job_id: int) -> HttpResponse:
    repository = access_repository(request, name)
    job = drift_selectors.drift_job_for_page(repository=repository, job_id=job_id)
    if job is None:
        raise Http404("No such drift job")
    context = {
        "repository": repository,
        "job": job,
        "results": list(drift_selectors.drift_result_rows(job=job)),
    }
    # htmx polls the panel alone while the job runs.
    template = (
        "monitoring/_drift_job_panel.html"
        if request.headers.get("HX-Request")
        else "monitoring/drift_job_detail.html"
    )
    return render(request, template, context)
