"""What the API returns and accepts (pydantic, through django-ninja).

Output schemas read model attributes; `*_name` fields resolve a related user or
release that the endpoint's query already joined (no query per row).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from ninja import Field, Schema

T = TypeVar("T")


class Page(Schema, Generic[T]):
    count: int
    next: str | None
    results: list[T]


def _username(user: Any) -> str | None:
    return user.get_username() if user is not None else None


class RepositoryOut(Schema):
    name: str
    origin: str
    production_branch: str
    development_branch: str
    tag_style: str
    required_approvals: int
    authors_may_approve: bool
    manifest_path: str
    last_synced_at: datetime | None
    last_sync_error: str


class BranchOut(Schema):
    name: str
    kind: str
    head: str
    author_name: str
    committed_at: datetime | None
    subject: str
    ahead_of_production: int
    behind_production: int
    ahead_of_development: int
    behind_development: int
    gone: bool = Field(..., alias="is_gone")
    merged: bool = Field(..., alias="is_merged")


class ReleaseOut(Schema):
    version: str
    tag: str
    tags: list[str]
    commit: str
    kind: str
    tagger_name: str
    tagged_at: datetime | None
    on_production: bool
    tag_state: str
    released_by: str | None
    tag_signature: str | None = Field(
        ...,
        description='Where the repository requires signed tags: "verified", or why not; '
        "null when not checked (not required, or a tag ewsdash made)",
    )

    @staticmethod
    def resolve_released_by(obj: Any) -> str | None:
        return _username(obj.released_by)

    @staticmethod
    def resolve_tag_signature(obj: Any) -> str | None:
        if obj.signature_checked_at is None:
            return None
        return obj.signature_problem or "verified"


class ReleaseDetailOut(ReleaseOut):
    changelog: list[dict[str, Any]]
    origin_commit: str
    rolls_back: str | None
    restores: str | None

    @staticmethod
    def resolve_rolls_back(obj: Any) -> str | None:
        return obj.rolls_back.version if obj.rolls_back_id else None

    @staticmethod
    def resolve_restores(obj: Any) -> str | None:
        return obj.restores.version if obj.restores_id else None


class CandidateOut(Schema):
    id: int
    kind: str
    source_branch: str
    commit: str
    version: str
    proposed_version: str
    bump: str
    base_version: str
    status: str
    status_reason: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    validation_run: int | None = Field(..., alias="validation_run_id")
    release: str | None
    pull_request: int | None = Field(
        None, description="github mode: the number of its pull request into production"
    )

    @staticmethod
    def resolve_pull_request(obj: Any) -> int | None:
        return obj.forge_pull_request or None

    @staticmethod
    def resolve_created_by(obj: Any) -> str | None:
        return _username(obj.created_by)

    @staticmethod
    def resolve_release(obj: Any) -> str | None:
        return obj.release.version if obj.release_id else None


class GateOut(Schema):
    key: str
    label: str
    ok: bool
    detail: str


class DecisionOut(Schema):
    user: str
    decision: str
    commit: str
    validation_run: int | None = Field(..., alias="validation_run_id")
    comment: str
    created_at: datetime
    voided_at: datetime | None
    void_reason: str

    @staticmethod
    def resolve_user(obj: Any) -> str:
        return obj.user.get_username()


class RefusalsOut(Schema):
    """For the token's user: why they may not approve or promote now (null: they may)."""

    approve: str | None
    promote: str | None


class CandidateDetailOut(CandidateOut):
    production_head: str
    contains_production_head: bool
    promotion_error: str
    changelog: list[dict[str, Any]]
    required_approvals: int
    live_approvals: int
    ready: bool
    gates: list[GateOut] = Field(..., alias="gate_list")
    decisions: list[DecisionOut] = Field(..., alias="decision_list")
    refusals: RefusalsOut

    @staticmethod
    def resolve_required_approvals(obj: Any) -> int:
        return obj.repository.required_approvals


class ArtifactOut(Schema):
    name: str
    kind: str
    sha256: str
    size: int
    rows: int | None

    @staticmethod
    def resolve_sha256(obj: Any) -> str:
        return obj.artifact.sha256

    @staticmethod
    def resolve_size(obj: Any) -> int:
        return obj.artifact.size


class CheckOut(Schema):
    name: str
    kind: str
    required: bool
    status: str
    exit_code: int | None
    duration_s: float | None
    summary: str
    started_at: datetime | None
    finished_at: datetime | None
    log_bytes: int
    artifacts: list[ArtifactOut] = Field(..., alias="artifact_list")


class RunOut(Schema):
    id: int
    commit: str
    attempt: int
    purpose: str
    status: str
    summary: str
    manifest_error: str
    reference: int | None = Field(..., alias="reference_id")
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_created_by(obj: Any) -> str | None:
        return _username(obj.created_by)


class RunDetailOut(RunOut):
    checks: list[CheckOut] = Field(..., alias="check_rows")


class DriftJobOut(Schema):
    id: int
    status: str
    reference_run: int = Field(..., alias="reference_run_id")
    current_run: int = Field(..., alias="current_run_id")
    reference_label: str
    current_label: str
    check_name: str
    columns: list[str]
    models: list[str]
    parts_total: int
    parts_done: int
    summary: dict[str, Any]
    error: str
    source: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class DriftResultOut(Schema):
    id: int
    model: str
    column: str
    kind: str
    status: str
    n_reference: int
    n_current: int
    ks_statistic: float | None
    ks_p_value: float | None
    q_value: float | None
    wasserstein_normed: float | None
    psi: float | None
    jensen_shannon: float | None
    effect: float | None
    drifted: bool
    reason: str


class DriftJobDetailOut(DriftJobOut):
    results: list[DriftResultOut] = Field(..., alias="result_rows")


class AuditEventOut(Schema):
    seq: int
    created_at: datetime
    actor: str = Field(..., alias="actor_name")
    action: str
    object_type: str
    object_id: str
    object_repr: str
    repository: str = Field(..., alias="repository_name")
    payload: dict[str, Any]
    hash: str


class Queued(Schema):
    status: str
    detail: str


class OperationOut(Schema):
    """A piece of work a worker carries out (a git write, or creating a candidate)."""

    id: int
    kind: str
    status: str = Field(..., description="queued, running, succeeded or failed")
    progress: str
    error: str
    params: dict[str, Any]
    result: dict[str, Any]
    candidate: int | None = Field(..., alias="candidate_id")
    requested_by: str | None
    created_at: datetime
    finished_at: datetime | None

    @staticmethod
    def resolve_requested_by(obj: Any) -> str | None:
        return obj.requested_by.get_username() if obj.requested_by_id else None


# -- input ------------------------------------------------------------------------------------


class CandidateCreateIn(Schema):
    source: str = Field("", description="development (the default) or a hotfix/* branch")
    version: str = Field("", description="An override of the proposed version (upward only)")


class ApproveIn(Schema):
    comment: str = ""


class RejectIn(Schema):
    reason: str = Field(..., min_length=1)


class PromoteIn(Schema):
    break_glass_reason: str = Field("", description="Admins only, hotfixes only, in a freeze")


class RunStartIn(Schema):
    ref: str = Field(..., min_length=1, description="A branch, a tag or a commit")


class SkillScoreOut(Schema):
    release: str = Field(..., alias="release.version")
    model: str
    status: str = Field(..., description="The model's deployment status at that release")
    target: str
    step: int
    month_id: int
    cells: int
    zeros: int
    crps: float
    twcrps: float
    twcrps_threshold: float
    mse: float
    msle: float
    brier: float
    coverage_50: float
    coverage_90: float
    outcomes_revision: int
    scored_at: datetime


class OutcomeIn(Schema):
    target: str = Field(..., min_length=1, description="lr_ged_sb (a pred_ prefix is dropped)")
    unit: int = Field(..., description="The unit id (country_id, priogrid_id)")
    month_id: int
    value: float = Field(..., ge=0, description="The observed value")


class OutcomesIn(Schema):
    rows: list[OutcomeIn] = Field(..., min_length=1, max_length=500_000)
    note: str = Field("", max_length=500, description="Where the data come from")


class OutcomeRevisionOut(Schema):
    revision: int = Field(..., description="Every value this delivery set or changed carries it")
    rows: int
    changed: int = Field(..., description="Values new or different from those recorded")


class DriftJobStartIn(Schema):
    reference_run: int = Field(..., description="The run whose predictions are the reference")
    current_run: int = Field(..., description="The run whose predictions are compared")
    models: list[str] = Field(default_factory=list, description="Empty: every model")
    columns: list[str] = Field(default_factory=list, description="Empty: every pred_* column")


class ReportedFileIn(Schema):
    name: str = Field(..., min_length=1, description="Its path in the check's {artifacts}")
    content_base64: str = Field(..., description="The file's bytes, base64")


class CheckResultIn(Schema):
    """An external check's result (JSON; multipart takes the same fields, files as parts)."""

    commit: str = Field(..., min_length=7, description="The commit the result was computed for")
    status: str = Field(..., pattern="^(passed|failed|error)$")
    summary: str = Field("", max_length=2000)
    log: str = ""
    files: list[ReportedFileIn] = Field(default_factory=list)
