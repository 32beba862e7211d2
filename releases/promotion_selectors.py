"""Reads for the candidate pages, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from releases import promotion
from releases.access import frozen_by
from releases.models import (
    Approval,
    Branch,
    CandidateKind,
    FreezeWindow,
    PromotionCandidate,
    Repository,
)
from releases.workflow import OPEN, CandidateStatus

S = CandidateStatus


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
            repository=repository, kind="hotfix", gone_at__isnull=True
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
    gates: list[promotion.Gate]
    decisions: list[Approval]
    voided: list[Approval]
    panel: Any
    live_approvals: int
    approve_refusal: str
    can_approve: bool
    can_reject: bool
    can_promote: bool
    can_rerun: bool
    can_waive: bool
    can_cancel: bool
    can_break_glass: bool
    polling: bool
    freeze: FreezeWindow | None
    flags: dict[str, bool] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(gate.ok for gate in self.gates)


def candidate_page(*, candidate: PromotionCandidate, user: Any) -> CandidatePage:
    from monitoring.selectors import run_panel

    approvals = list(Approval.objects.filter(candidate=candidate).select_related("user"))
    live = [
        a
        for a in approvals
        if a.voided_at is None
        and a.decision == "approve"
        and a.commit == candidate.commit
        and a.validation_run_id == candidate.validation_run_id
    ]
    freeze = frozen_by(candidate.repository)
    production = (
        Branch.objects.filter(
            repository=candidate.repository, kind="production", gone_at__isnull=True
        )
        .values_list("head", flat=True)
        .first()
    )
    other = (
        PromotionCandidate.objects.filter(repository=candidate.repository, status=S.PROMOTING)
        .exclude(pk=candidate.pk)
        .first()
    )
    gates = promotion.candidate_gates(
        candidate=candidate,
        approvals=len(live),
        production_head=production,
        other_promoting=other,
        freeze=freeze,
    )
    status = candidate.status
    may = user.has_perm
    decided = any(a.user_id == user.pk and a.voided_at is None for a in approvals)
    refusal = promotion._may_decide(candidate, user) if may("releases.approve_candidate") else ""
    if decided:
        refusal = "You have already decided on this candidate."
    return CandidatePage(
        candidate=candidate,
        gates=gates,
        decisions=[a for a in approvals if a.voided_at is None],
        voided=[a for a in approvals if a.voided_at is not None],
        panel=run_panel(run=candidate.validation_run) if candidate.validation_run else None,
        live_approvals=len(live),
        approve_refusal=refusal,
        can_approve=may("releases.approve_candidate") and status in (S.VALIDATED, S.APPROVED),
        can_reject=may("releases.approve_candidate") and status in OPEN and status != S.PROMOTING,
        can_promote=may("releases.promote_candidate")
        and status in (S.APPROVED, S.PROMOTION_FAILED),
        can_rerun=may("releases.rerun_validation")
        and status in (S.VALIDATED, S.VALIDATION_FAILED, S.APPROVED, S.PROMOTION_FAILED),
        can_waive=may("releases.waive_check") and status == S.VALIDATION_FAILED,
        can_cancel=may("releases.create_candidate")
        and status in OPEN
        and status != S.PROMOTING
        and (candidate.created_by_id == user.pk or may("releases.rollback_release")),
        can_break_glass=freeze is not None
        and candidate.kind == CandidateKind.HOTFIX
        and may("releases.manage_freeze"),
        polling=status in (S.VALIDATING, S.PROMOTING),
        freeze=freeze,
    )
