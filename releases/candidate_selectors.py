"""Reads for the candidate pages, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from monitoring.chart_selectors import deltas_between, performance_tolerance
from monitoring.metric_deltas import MetricDelta
from monitoring.selectors import RunPanel, run_panel
from releases.access import frozen_by
from releases.gates import (
    Gate,
    GateFacts,
    approve_refusal,
    break_glass_refusal,
    cancel_refusal,
    gate_facts,
    gates,
    missing_for_promotion,
    promote_refusal,
    reject_refusal,
    rerun_refusal,
    waive_refusal,
)
from releases.incidents import incidents_open
from releases.models import (
    Approval,
    Branch,
    Forge,
    FreezeWindow,
    Incident,
    Operation,
    OperationKind,
    PromotionCandidate,
    Repository,
)
from releases.workflow import OPEN, S


@dataclass
class CandidateBoard:
    open: list[PromotionCandidate]
    closed: list[PromotionCandidate]
    sources: list[str]
    proposed_version: str
    freeze: FreezeWindow | None


def candidate_board(*, repository: Repository, closed_limit: int = 30) -> CandidateBoard:
    rows = list(
        PromotionCandidate.objects.filter(repository=repository)
        .select_related("created_by", "validation_run", "release")
        .order_by("-created_at")[:200]
    )
    sources = [repository.development_branch] + sorted(
        Branch.objects.filter(
            repository=repository, kind__in=["release", "hotfix"], gone_at__isnull=True
        ).values_list("name", flat=True)
    )
    line = getattr(repository, "release_line", None)
    return CandidateBoard(
        open=[c for c in rows if c.status in OPEN],
        closed=[c for c in rows if c.status not in OPEN][:closed_limit],
        sources=sources,
        proposed_version=line.next_version if line else "",
        freeze=frozen_by(repository),
    )


@dataclass
class CandidatePage:
    candidate: PromotionCandidate
    gates: list[Gate]
    decisions: list[Approval]
    voided: list[Approval]
    panel: RunPanel | None
    live_approvals: int
    # Which buttons the person looking sees, and why they may not approve or promote now
    # (None: they may), from the same predicates the services apply. A button their role
    # allows on an open candidate is shown, disabled with the refusal when it cannot be used
    # now; a role that never may sees no button.
    can_approve: bool
    approve_refusal: str | None
    can_promote: bool
    promote_refusal: str | None
    reject_refusal: str | None
    can_reject: bool
    rerun_refusal: str | None
    can_rerun: bool
    can_waive: bool
    cancel_refusal: str | None
    can_cancel: bool
    can_break_glass: bool
    polling: bool
    freeze: FreezeWindow | None
    # A finished candidate (released, rejected, superseded, cancelled) shows its final state
    # instead of gates that no longer apply (production moved on once it was released).
    finished: bool = False
    # Its metrics against production's run, worst first (the compare page's table).
    deltas: list[MetricDelta] = field(default_factory=list)
    operation: Operation | None = None  # the latest promote operation, with its progress
    pull_request_url: str = ""  # github mode: the candidate's pull request on GitHub

    @property
    def regressions(self) -> list[MetricDelta]:
        return [d for d in self.deltas if d.regressed]

    @property
    def ready(self) -> bool:
        return all(gate.ok for gate in self.gates)


def pull_request_url(candidate: PromotionCandidate) -> str:
    """The pull request's page on GitHub (github.com, or an Enterprise server's web root:
    its API root without `/api/v3`); empty in direct mode or before it is open."""
    repository = candidate.repository
    if repository.forge != Forge.GITHUB or not candidate.forge_pull_request:
        return ""
    api = settings.EWSDASH_GITHUB_API_URL.rstrip("/")
    web = "https://github.com" if api == "https://api.github.com" else api.removesuffix("/api/v3")
    return f"{web}/{repository.forge_project}/pull/{candidate.forge_pull_request}"


def candidate_page(*, candidate: PromotionCandidate, user: Any) -> CandidatePage:
    """The candidate with its gates and what `user` may do, from the same facts the
    services judge by (releases.gates)."""
    facts = gate_facts(candidate=candidate)
    is_open = candidate.status in OPEN
    reject = reject_refusal(candidate, user)
    rerun = rerun_refusal(candidate, user)
    cancel = cancel_refusal(candidate, user)
    return CandidatePage(
        candidate=candidate,
        gates=gates(facts),
        decisions=[a for a in facts.decisions if a.voided_at is None],
        voided=[a for a in facts.decisions if a.voided_at is not None],
        panel=run_panel(run=candidate.validation_run) if candidate.validation_run else None,
        live_approvals=len(facts.live_approvals),
        can_approve=user.has_perm("releases.approve_candidate") and is_open,
        approve_refusal=approve_refusal(candidate, user, facts),
        can_promote=user.has_perm("releases.promote_candidate") and is_open,
        promote_refusal=promote_refusal(candidate, user, facts),
        reject_refusal=reject,
        can_reject=user.has_perm("releases.approve_candidate") and is_open,
        rerun_refusal=rerun,
        can_rerun=user.has_perm("releases.rerun_validation") and is_open,
        can_waive=waive_refusal(candidate, user) is None,
        cancel_refusal=cancel,
        can_cancel=user.has_perm("releases.create_candidate") and is_open,
        can_break_glass=facts.freeze is not None and break_glass_refusal(candidate, user) is None,
        polling=candidate.status in (S.VALIDATING, S.PROMOTING),
        freeze=facts.freeze,
        # Its promotion's operation (the one that created it is not shown here).
        operation=Operation.objects.filter(candidate=candidate, kind=OperationKind.PROMOTE)
        .order_by("-pk")
        .first(),
        finished=not is_open,
        deltas=_deltas(candidate),
        pull_request_url=pull_request_url(candidate),
    )


def _deltas(candidate: PromotionCandidate) -> list[MetricDelta]:
    """The candidate's metrics against those of production's run its validation compared
    with, judged by the tolerance of the manifest it was validated by (one query)."""
    run = candidate.validation_run
    if run is None or run.reference_id is None:
        return []
    tolerance, abs_tolerance = performance_tolerance(run.manifest)
    return deltas_between(
        run.reference_id, run.pk, tolerance=tolerance, abs_tolerance=abs_tolerance
    )


@dataclass
class DecisionBar:
    """Approve and Reject for an open candidate, drawn beside the evidence (model health,
    compare) from the same predicates as its own page and the services."""

    candidate: PromotionCandidate
    live_approvals: int
    required: int
    approve_refusal: str | None
    reject_refusal: str | None
    missing: list[str]  # what production still needs before it may go in


def decision_bar(
    *, candidate: PromotionCandidate | None, repository: Repository, user: Any
) -> DecisionBar | None:
    """The bar for people whose role may decide, on an open candidate (four queries);
    None otherwise (no query)."""
    if (
        candidate is None
        or candidate.status not in OPEN
        or not user.has_perm("releases.approve_candidate")
    ):
        return None
    candidate.repository = repository  # already loaded by the page: no query
    facts = gate_facts(candidate=candidate)
    return DecisionBar(
        candidate=candidate,
        live_approvals=len(facts.live_approvals),
        required=repository.required_approvals,
        approve_refusal=approve_refusal(candidate, user, facts),
        reject_refusal=reject_refusal(candidate, user),
        missing=missing_for_promotion(facts),
    )


# -- waiting for me ----------------------------------------------------------------------------

# What a candidate of mine waits for, by status: the blocking step in one line.
NEXT_STEP: dict[str, str] = {
    S.VALIDATING: "waits for staging validation",
    S.VALIDATION_FAILED: "failed validation: re-run it after a fix, or ask an admin to waive it",
    S.VALIDATED: "waits for approvals",
    S.APPROVED: "approved: ready to promote",
    S.PROMOTING: "promotion under way",
    S.PROMOTION_FAILED: "promotion failed: read git's error, then promote again",
}


@dataclass(frozen=True)
class WaitingForMe:
    to_approve: list[PromotionCandidate]  # candidates the user may approve now
    mine: list[tuple[PromotionCandidate, str]]  # the user's open candidates, what each waits for
    incidents: list[Incident] = field(default_factory=list)  # open ones, for admins

    @property
    def count(self) -> int:
        return len(self.to_approve) + len(self.mine) + len(self.incidents)


# Own candidates whose blocking gates are named (five queries each); later ones say their step.
GATED_MINE = 3


def _next_step(candidate: PromotionCandidate, *, gated: bool) -> str:
    """What the candidate waits for; a validated or approved one names the gates that
    still block its promotion (approvals, freeze, incident, production moved, ...)."""
    step = NEXT_STEP.get(candidate.status, candidate.get_status_display())
    if not gated or candidate.status not in (S.VALIDATED, S.APPROVED):
        return step
    missing = missing_for_promotion(gate_facts(candidate=candidate))
    return f"{step} (blocked by {'; '.join(missing)})" if missing else step


def waiting_for(*, user: Any, repository: Repository | None = None) -> WaitingForMe:
    """What waits for `user`, in two queries (three for admins), and five more for each of
    the user's first validated or approved candidates (its gates): open candidates of live
    repositories, the user's decisions on them, and open incidents for admins.
    Who may approve follows `approve_refusal`, the action's own rule."""
    rows = PromotionCandidate.objects.filter(
        status__in=OPEN, repository__archived_at__isnull=True
    ).select_related("repository")
    if repository is not None:
        rows = rows.filter(repository=repository)
    candidates = list(rows.order_by("repository__name", "pk")[:200])
    decisions: dict[int, list[Approval]] = {}
    for decision in Approval.objects.filter(user=user, candidate__in=candidates):
        decisions.setdefault(decision.candidate_id, []).append(decision)
    to_approve = [
        candidate
        for candidate in candidates
        if candidate.status == S.VALIDATED
        and approve_refusal(
            candidate,
            user,
            # Only the user's own decisions matter to the approve rule's "already decided".
            GateFacts(candidate, decisions.get(candidate.pk, []), None, None, None),
        )
        is None
    ]
    mine = [
        (candidate, _next_step(candidate, gated=index < GATED_MINE))
        for index, candidate in enumerate(c for c in candidates if c.created_by_id == user.pk)
    ]
    # Admins acknowledge incidents: theirs to act on (one query, for admins only).
    incidents = incidents_open(repository) if user.has_perm("releases.acknowledge_incident") else []
    return WaitingForMe(to_approve, mine, incidents)
