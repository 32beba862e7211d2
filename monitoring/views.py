"""The validation run pages: the list with its start form, one run, cancel and re-run."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from monitoring import runs, selectors
from monitoring.models import RunPurpose, ValidationRun
from releases.access import access_repository
from releases.errors import ActionRefused
from releases.models import Repository


def _run_or_404(repository: Repository, run_id: int) -> ValidationRun:
    run = selectors.run_for_page(repository=repository, run_id=run_id)
    if run is None:
        raise Http404("No such validation run")
    return run


@require_safe
def monitoring_home(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name)
    run_rows = list(selectors.run_list(repository=repository))
    return render(request, "monitoring/home.html", {"repository": repository, "runs": run_rows})


@require_safe
def validation_run_detail(request: HttpRequest, name: str, run_id: int) -> HttpResponse:
    repository = access_repository(request, name)
    panel = selectors.run_panel(run=_run_or_404(repository, run_id))
    # htmx polls the panel alone while the run is going on.
    template = (
        "monitoring/_run_panel.html" if request.headers.get("HX-Request") else "monitoring/run.html"
    )
    # The candidate page polls with ?collapse_logs=1 and keeps its logs closed.
    collapse = request.GET.get("collapse_logs") == "1"
    return render(
        request, template, {"repository": repository, "panel": panel, "collapse_logs": collapse}
    )


@require_POST
def validation_run_start(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name, action="rerun_validation")
    ref = request.POST.get("ref", "").strip()
    if not ref:
        messages.error(request, "Name a branch, a tag or a commit to validate.")
        return redirect("monitoring_home", name=repository.name)
    try:
        run = runs.validation_run_start(
            repository=repository,
            commit=ref,
            actor=request.user,
            purpose=RunPurpose.MANUAL,
            in_request=True,
        )
    except ActionRefused as error:
        messages.error(request, str(error))
        return redirect("monitoring_home", name=repository.name)
    return redirect("validation_run_detail", name=repository.name, run_id=run.pk)


@require_POST
def validation_run_cancel(request: HttpRequest, name: str, run_id: int) -> HttpResponse:
    repository = access_repository(request, name, action="rerun_validation")
    run = _run_or_404(repository, run_id)
    try:
        runs.validation_run_cancel(run=run, actor=request.user)
        messages.info(request, f"Run #{run.pk} is being cancelled; its commands are killed.")
    except ActionRefused as error:
        messages.error(request, str(error))
    return redirect("validation_run_detail", name=repository.name, run_id=run.pk)


@require_POST
def validation_run_rerun(request: HttpRequest, name: str, run_id: int) -> HttpResponse:
    repository = access_repository(request, name, action="rerun_validation")
    run = _run_or_404(repository, run_id)
    try:
        again = runs.validation_run_rerun(run=run, actor=request.user)
    except ActionRefused as error:
        messages.error(request, str(error))
        return redirect("validation_run_detail", name=repository.name, run_id=run.pk)
    return redirect("validation_run_detail", name=repository.name, run_id=again.pk)
