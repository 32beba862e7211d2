"""The REST API under /api/v1/ (django-ninja): thin operations over the pages' services.

Each operation authenticates a Bearer token (`api.auth`), fetches through the same
access helper as the pages (`releases.access.access_repository`: 404 or 403), and calls
the same service, whose gate predicates (`releases.gates`) decide; a refusal becomes a
409 problem. Writes are audited by the services as the token's user, marked
`via: api token <name>`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Annotated, Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from ninja import NinjaAPI, Query, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.docs import Swagger
from ninja.operation import Operation

from api import problems
from api.auth import BearerToken, ReportToken, acting
from api.schemas import (
    ApproveIn,
    AuditEventOut,
    BranchOut,
    CandidateCreateIn,
    CandidateDetailOut,
    CandidateOut,
    CheckOut,
    CheckResultIn,
    DriftJobDetailOut,
    DriftJobOut,
    DriftJobStartIn,
    OperationOut,
    OutcomeRevisionOut,
    OutcomesIn,
    Page,
    PromoteIn,
    Queued,
    RejectIn,
    ReleaseDetailOut,
    ReleaseOut,
    RepositoryOut,
    RunDetailOut,
    RunOut,
    RunStartIn,
    SkillScoreOut,
)
from monitoring import drift_jobs, drift_selectors, external, runs, skill_ledger
from monitoring import selectors as run_selectors
from monitoring.models import DriftJob, RunPurpose, SkillScore, ValidationRun
from releases import candidate_selectors, candidates, selectors, services
from releases.access import access_repository, require_reader
from releases.errors import ActionRefused
from releases.models import Operation as GitOperation
from releases.models import PromotionCandidate, Release

MAX_LIMIT = 200
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Results per page")]
Offset = Annotated[int, Query(ge=0, description="Results to skip")]


def _tag(path: str) -> str:
    """The docs' group of a path: what follows the repository's name, else its own head."""
    parts = path.removeprefix("/api/v1/").split("/")
    tag = parts[2] if len(parts) > 2 and parts[1] == "{name}" else parts[0]
    return "repositories" if tag == "sync" else tag


class LocalSwagger(Swagger):
    """Swagger UI from ninja's files, which settings serve without installing ninja as an
    app (ninja falls back to a CDN then; no page here loads anything from one)."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {"swagger_settings": json.dumps(self.settings), "api": api, "add_csrf": False}
        return render(request, self.template, context)


class EwsdashAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # Clients generated from the document get short method names.
        return operation.view_func.__name__

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """The document, with errors declared as what they are: problem+json."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for path, methods in schema["paths"].items():
            for operation in methods.values():
                operation["tags"] = [_tag(path)]
                for status, response in operation["responses"].items():
                    if int(status) >= 400 and "content" in response:
                        response["content"] = {
                            problems.PROBLEM_TYPE: response["content"]["application/json"]
                        }
        return schema


api = EwsdashAPI(
    title="ewsdash API",
    version="1",
    description=(
        "Release governance of a forecasting pipeline: repositories, branches, releases, "
        "candidates and their gates, validation runs, drift jobs, the audit log. "
        "Authenticate with a personal token: `Authorization: Bearer ews_…`."
    ),
    auth=BearerToken(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    docs=LocalSwagger(),
)


# -- errors -----------------------------------------------------------------------------------


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    return problems.problem(
        request, 400, "The request does not match the schema.", errors=list(error.errors)
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return problems.problem(request, 401, "Send a live token: Authorization: Bearer ews_…")


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    return problems.problem(request, 403, str(error) or "Forbidden.")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return problems.problem(request, 404, str(error) or "Not found.")


@api.exception_handler(ActionRefused)
def _refused(request: HttpRequest, error: ActionRefused) -> HttpResponse:
    return problems.problem(request, 409, str(error))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    return problems.problem(request, error.status_code, str(error))


# -- helpers ----------------------------------------------------------------------------------


def paginate(
    request: HttpRequest,
    rows: QuerySet[Any],
    *,
    limit: int,
    offset: int,
    prepare: Callable[[list[Any]], list[Any]] | None = None,
) -> dict[str, Any]:
    """`{"count", "next", "results"}` with limit/offset: two queries."""
    count = rows.count()
    results = list(rows[offset : offset + limit])
    following = None
    if offset + limit < count:
        query = request.GET.copy()
        query["offset"], query["limit"] = str(offset + limit), str(limit)
        following = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {
        "count": count,
        "next": following,
        "results": prepare(results) if prepare else results,
    }


def _candidate(request: HttpRequest, name: str, pk: int, action: str | None = None) -> Any:
    repository = access_repository(request, name, action=action)
    candidate = get_object_or_404(
        PromotionCandidate.objects.select_related(
            "created_by", "validation_run", "release", "waived_by", "promoted_by"
        ),
        repository=repository,
        pk=pk,
    )
    candidate.repository = repository
    return candidate


def _candidate_detail(request: HttpRequest, candidate: PromotionCandidate) -> Any:
    """The candidate with its gates, decisions and the asker's refusals, from the same
    selector (and so the same gate predicates) as the candidate page."""
    page = candidate_selectors.candidate_page(candidate=candidate, user=request.user)
    candidate.gate_list = page.gates  # type: ignore[attr-defined]
    candidate.decision_list = page.decisions + page.voided  # type: ignore[attr-defined]
    candidate.live_approvals = page.live_approvals  # type: ignore[attr-defined]
    candidate.ready = page.ready  # type: ignore[attr-defined]
    candidate.refusals = {  # type: ignore[attr-defined]
        "approve": page.approve_refusal,
        "promote": page.promote_refusal,
    }
    return candidate


def _candidate_again(request: HttpRequest, name: str, pk: int) -> Any:
    return _candidate_detail(request, _candidate(request, name, pk))


# -- repositories, branches, releases ---------------------------------------------------------


@api.get("/repositories", response={200: Page[RepositoryOut], **problems.READ_ERRORS})
def repository_list(request: HttpRequest, limit: Limit = 50, offset: Offset = 0) -> Any:
    require_reader(request)
    return paginate(request, selectors.repository_list(), limit=limit, offset=offset)


@api.get("/repositories/{name}", response={200: RepositoryOut, **problems.READ_ERRORS})
def repository_detail(request: HttpRequest, name: str) -> Any:
    return access_repository(request, name)


@api.post("/repositories/{name}/sync", response={202: Queued, **problems.WRITE_ERRORS})
def repository_sync(request: HttpRequest, name: str) -> Any:
    repository = access_repository(request, name, action="sync_repository")
    with acting(request) as user:
        services.repository_request_sync(repository=repository, actor=user)
    return Status(202, {"status": "queued", "detail": f"Sync of {repository.name} queued."})


@api.get("/repositories/{name}/branches", response={200: Page[BranchOut], **problems.READ_ERRORS})
def branch_list(
    request: HttpRequest, name: str, limit: Limit = 50, offset: Offset = 0, gone: bool = False
) -> Any:
    repository = access_repository(request, name)
    rows = (
        repository.branches.filter(gone_at__isnull=not gone)
        .annotate(kind_order=selectors.KIND_ORDER)
        .order_by("kind_order", "-committed_at", "name")
    )
    return paginate(request, rows, limit=limit, offset=offset)


@api.get("/repositories/{name}/releases", response={200: Page[ReleaseOut], **problems.READ_ERRORS})
def release_list(request: HttpRequest, name: str, limit: Limit = 50, offset: Offset = 0) -> Any:
    repository = access_repository(request, name)
    rows = (
        Release.objects.filter(repository=repository)
        .select_related("released_by")
        .order_by("-tagged_at", "-pk")
    )
    return paginate(request, rows, limit=limit, offset=offset)


@api.get(
    "/repositories/{name}/releases/{version}",
    response={200: ReleaseDetailOut, **problems.READ_ERRORS},
)
def release_detail(request: HttpRequest, name: str, version: str) -> Any:
    repository = access_repository(request, name)
    return get_object_or_404(
        Release.objects.select_related("released_by", "rolls_back", "restores"),
        repository=repository,
        version=version.removeprefix("v"),
    )


# -- candidates -------------------------------------------------------------------------------


@api.get(
    "/repositories/{name}/candidates", response={200: Page[CandidateOut], **problems.READ_ERRORS}
)
def candidate_list(
    request: HttpRequest, name: str, limit: Limit = 50, offset: Offset = 0, status: str = ""
) -> Any:
    repository = access_repository(request, name)
    rows = (
        PromotionCandidate.objects.filter(repository=repository)
        .select_related("created_by", "release")
        .order_by("-created_at", "-pk")
    )
    if status:
        rows = rows.filter(status=status)
    return paginate(request, rows, limit=limit, offset=offset)


@api.post(
    "/repositories/{name}/candidates",
    response={202: OperationOut, **problems.WRITE_ERRORS},
)
def candidate_create(request: HttpRequest, name: str, body: CandidateCreateIn) -> Any:
    """Queued: a worker syncs with the origin and freezes the branch head. Follow the
    operation (GET .../operations/{operation_id}); once it succeeded, `candidate` is set."""
    repository = access_repository(request, name, action="create_candidate")
    with acting(request) as user:
        operation = candidates.candidate_request(
            repository=repository, actor=user, source_branch=body.source, version=body.version
        )
    return Status(202, _operation(request, name, operation.pk))


@api.get(
    "/repositories/{name}/operations/{operation_id}",
    response={200: OperationOut, **problems.READ_ERRORS},
)
def operation_detail(request: HttpRequest, name: str, operation_id: int) -> Any:
    return _operation(request, name, operation_id)


def _operation(request: HttpRequest, name: str, pk: int) -> GitOperation:
    repository = access_repository(request, name)
    return get_object_or_404(
        GitOperation.objects.select_related("requested_by"), repository=repository, pk=pk
    )


@api.get(
    "/repositories/{name}/candidates/{pk}",
    response={200: CandidateDetailOut, **problems.READ_ERRORS},
)
def candidate_detail(request: HttpRequest, name: str, pk: int) -> Any:
    return _candidate_detail(request, _candidate(request, name, pk))


@api.post(
    "/repositories/{name}/candidates/{pk}/approve",
    response={200: CandidateDetailOut, **problems.WRITE_ERRORS},
)
def candidate_approve(request: HttpRequest, name: str, pk: int, body: ApproveIn) -> Any:
    candidate = _candidate(request, name, pk, action="approve_candidate")
    with acting(request) as user:
        candidates.candidate_approve(candidate=candidate, actor=user, comment=body.comment)
    return _candidate_again(request, name, pk)


@api.post(
    "/repositories/{name}/candidates/{pk}/reject",
    response={200: CandidateDetailOut, **problems.WRITE_ERRORS},
)
def candidate_reject(request: HttpRequest, name: str, pk: int, body: RejectIn) -> Any:
    candidate = _candidate(request, name, pk, action="approve_candidate")
    with acting(request) as user:
        candidates.candidate_reject(candidate=candidate, actor=user, reason=body.reason)
    return _candidate_again(request, name, pk)


@api.post(
    "/repositories/{name}/candidates/{pk}/promote",
    response={202: CandidateDetailOut, **problems.WRITE_ERRORS},
)
def candidate_promote(request: HttpRequest, name: str, pk: int, body: PromoteIn) -> Any:
    candidate = _candidate(request, name, pk, action="promote_candidate")
    with acting(request) as user:
        candidates.candidate_promote(
            candidate=candidate, actor=user, break_glass_reason=body.break_glass_reason
        )
    return Status(202, _candidate_again(request, name, pk))


# -- validation runs and drift jobs -----------------------------------------------------------


def _run(request: HttpRequest, name: str, run_id: int, action: str | None = None) -> Any:
    repository = access_repository(request, name, action=action)
    run = run_selectors.run_for_page(repository=repository, run_id=run_id)
    if run is None:
        raise Http404("No such validation run.")
    return run


def _run_detail(run: ValidationRun) -> ValidationRun:
    panel = run_selectors.run_panel(run=run)
    run.check_rows = panel.checks  # type: ignore[attr-defined]
    return run


@api.get("/repositories/{name}/runs", response={200: Page[RunOut], **problems.READ_ERRORS})
def validation_run_list(
    request: HttpRequest, name: str, limit: Limit = 50, offset: Offset = 0
) -> Any:
    repository = access_repository(request, name)
    rows = (
        ValidationRun.objects.filter(repository=repository)
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )
    return paginate(request, rows, limit=limit, offset=offset)


@api.post("/repositories/{name}/runs", response={201: RunDetailOut, **problems.WRITE_ERRORS})
def validation_run_start(request: HttpRequest, name: str, body: RunStartIn) -> Any:
    repository = access_repository(request, name, action="rerun_validation")
    with acting(request) as user:
        run = runs.validation_run_start(
            repository=repository,
            commit=body.ref.strip(),
            actor=user,
            purpose=RunPurpose.MANUAL,
            in_request=True,
        )
    return Status(201, _run_detail(_run(request, name, run.pk)))


@api.get("/repositories/{name}/runs/{run_id}", response={200: RunDetailOut, **problems.READ_ERRORS})
def validation_run_detail(request: HttpRequest, name: str, run_id: int) -> Any:
    return _run_detail(_run(request, name, run_id))


# Multipart parts that hold files (each part's file name is its path in {artifacts}).
REPORT_FILE_PARTS = ("predictions", "metrics", "files")
REPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": CheckResultIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["commit", "status"],
                    "properties": {
                        "commit": {"type": "string"},
                        "status": {"type": "string", "enum": ["passed", "failed", "error"]},
                        "summary": {"type": "string"},
                        "log": {"type": "string", "description": "text, or a file part"},
                        **{
                            part: {"type": "array", "items": {"type": "string", "format": "binary"}}
                            for part in REPORT_FILE_PARTS
                        },
                    },
                }
            },
        },
    }
}


def _report_in(request: HttpRequest) -> tuple[CheckResultIn, list[external.Upload]]:
    """The report, from a JSON body or a multipart form (400 when it matches neither)."""
    try:
        if request.content_type == "multipart/form-data":
            log_file = request.FILES.get("log")
            fields = {key: request.POST.get(key, "") for key in ("commit", "status", "summary")}
            fields["log"] = (
                log_file.read().decode("utf-8", "replace")
                if log_file
                else request.POST.get("log", "")
            )
            body = CheckResultIn.model_validate(fields)
            uploads = [
                external.Upload(name=upload.name or "", chunks=upload.chunks())
                for part in REPORT_FILE_PARTS
                for upload in request.FILES.getlist(part)
            ]
            return body, uploads
        body = CheckResultIn.model_validate_json(request.body)
        uploads = [
            external.Upload(
                name=item.name, chunks=[base64.b64decode(item.content_base64, validate=True)]
            )
            for item in body.files
        ]
        return body, uploads
    except (ValueError, binascii.Error) as error:
        errors = error.errors() if hasattr(error, "errors") else [{"msg": str(error)}]
        raise NinjaValidationError(errors) from None


@api.post(
    "/repositories/{name}/validation-runs/{run_id}/checks/{check}/result",
    auth=ReportToken(),
    response={201: CheckOut, **problems.WRITE_ERRORS},
    openapi_extra=REPORT_BODY,
)
def check_result_report(request: HttpRequest, name: str, run_id: int, check: str) -> Any:
    """Report the result of an external check (a token with the `report` scope)."""
    run = _run(request, name, run_id, action="rerun_validation")
    body, uploads = _report_in(request)
    with acting(request) as user:
        external.external_result_report(
            run=run,
            check_name=check,
            commit=body.commit,
            status=body.status,
            summary=body.summary,
            log=body.log,
            files=uploads,
            actor=user,
        )
    rows = _run_detail(_run(request, name, run_id)).check_rows  # type: ignore[attr-defined]
    return Status(201, next(row for row in rows if row.name == check))


@api.get(
    "/repositories/{name}/drift-jobs", response={200: Page[DriftJobOut], **problems.READ_ERRORS}
)
def drift_job_list(request: HttpRequest, name: str, limit: Limit = 50, offset: Offset = 0) -> Any:
    repository = access_repository(request, name)
    rows = DriftJob.objects.filter(repository=repository).order_by("-created_at", "-pk")
    return paginate(request, rows, limit=limit, offset=offset)


def _run_in_body(repository: Any, field: str, run_id: int) -> ValidationRun:
    run = ValidationRun.objects.filter(repository=repository, pk=run_id).first()
    if run is None:
        raise HttpError(400, f"{field}: {repository.name} has no validation run #{run_id}.")
    return run


@api.post(
    "/repositories/{name}/drift-jobs", response={201: DriftJobDetailOut, **problems.WRITE_ERRORS}
)
def drift_job_start(request: HttpRequest, name: str, body: DriftJobStartIn) -> Any:
    repository = access_repository(request, name, action="start_drift_job")
    reference = _run_in_body(repository, "reference_run", body.reference_run)
    current = _run_in_body(repository, "current_run", body.current_run)
    with acting(request) as user:
        job = drift_jobs.drift_job_start(
            repository=repository,
            reference_run=reference,
            current_run=current,
            actor=user,
            models=body.models,
            columns=body.columns,
            reference_label=drift_jobs.run_label(reference),
            current_label=drift_jobs.run_label(current),
        )
    return Status(201, drift_job_detail(request, name, job.pk))


@api.get(
    "/repositories/{name}/drift-jobs/{job_id}",
    response={200: DriftJobDetailOut, **problems.READ_ERRORS},
)
def drift_job_detail(request: HttpRequest, name: str, job_id: int) -> Any:
    repository = access_repository(request, name)
    job = drift_selectors.drift_job_for_page(repository=repository, job_id=job_id)
    if job is None:
        raise Http404("No such drift job.")
    job.result_rows = list(drift_selectors.drift_result_rows(job=job))  # type: ignore[attr-defined]
    return job


@api.get("/repositories/{name}/skill", response={200: Page[SkillScoreOut], **problems.READ_ERRORS})
def skill_score_list(
    request: HttpRequest,
    name: str,
    model: str = "",
    target: str = "",
    limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """The realized-skill ledger: each production release's scores per model, target and
    month, newest month first."""
    repository = access_repository(request, name)
    rows = SkillScore.objects.filter(repository=repository).select_related("release")
    if model:
        rows = rows.filter(model=model)
    if target:
        rows = rows.filter(target=target)
    return paginate(
        request,
        rows.order_by("-month_id", "release_id", "model", "target"),
        limit=limit,
        offset=offset,
    )


@api.post(
    "/repositories/{name}/outcomes",
    response={201: OutcomeRevisionOut, **problems.WRITE_ERRORS},
)
def outcomes_record(request: HttpRequest, name: str, body: OutcomesIn) -> Any:
    """Observed outcomes (one revision); the realized-skill ledger scores them on a worker."""
    repository = access_repository(request, name, action="record_outcomes")
    with acting(request) as user:
        revision = skill_ledger.outcomes_record(
            repository=repository,
            rows=[row.dict() for row in body.rows],
            source="api",
            actor=user,
            note=body.note,
        )
    return Status(
        201, {"revision": revision.pk, "rows": revision.rows, "changed": revision.changed}
    )


# -- audit ------------------------------------------------------------------------------------


@api.get("/audit-events", response={200: Page[AuditEventOut], **problems.READ_ERRORS})
def audit_event_list(
    request: HttpRequest,
    limit: Limit = 50,
    offset: Offset = 0,
    repository: str = "",
    action: str = "",
    actor: str = "",
) -> Any:
    require_reader(request)
    events = selectors.audit_events(repository=repository, action=action, actor=actor)
    return paginate(request, events, limit=limit, offset=offset)
