"""Reads for the candidate pages, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitoring.selectors import RunPanel, run_panel
from releases.access import frozen_by
from releases.gates import (
    APPROVABLE,
    PROMOTABLE,
    Gate,
    approve_refusal,
    break_glass_refusal,
    cancel_refusal,
    gate_facts,
    gates,
    promote_refusal,
    reject_refusal,
    rerun_refusal,
    waive_refusal,
)
from releases.models import (
    Approval,
    Branch,
    FreezeWindow,
    Operation,
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
    gates: list[Gate]
    decisions: list[Approval]
    voided: list[Approval]
    panel: RunPanel | None
    live_approvals: int
    # Which buttons the person looking sees, and why they may not approve or promote now
    # (None: they may), from the same predicates the services apply.
    can_approve: bool
    approve_refusal: str | None
    can_promote: bool
    promote_refusal: str | None
    can_reject: bool
    can_rerun: bool
    can_waive: bool
    can_cancel: bool
    can_break_glass: bool
    polling: bool
    freeze: FreezeWindow | None
    operation: Operation | None = None  # the latest promote operation, with its progress

    @property
    def ready(self) -> bool:
        return all(gate.ok for gate in self.gates)


def candidate_page(*, candidate: PromotionCandidate, user: Any) -> CandidatePage:
    """The candidate with its gates and what `user` may do, from the same facts the
    services judge by (releases.gates)."""
    facts = gate_facts(candidate=candidate)
    status = candidate.status
    return CandidatePage(
        candidate=candidate,
        gates=gates(facts),
        decisions=[a for a in facts.decisions if a.voided_at is None],
        voided=[a for a in facts.decisions if a.voided_at is not None],
        panel=run_panel(run=candidate.validation_run) if candidate.validation_run else None,
        live_approvals=len(facts.live_approvals),
        can_approve=user.has_perm("releases.approve_candidate") and status in APPROVABLE,
        approve_refusal=approve_refusal(candidate, user, facts),
        can_promote=user.has_perm("releases.promote_candidate") and status in PROMOTABLE,
        promote_refusal=promote_refusal(candidate, user, facts),
        can_reject=reject_refusal(candidate, user) is None,
        can_rerun=rerun_refusal(candidate, user) is None,
        can_waive=waive_refusal(candidate, user) is None,
        can_cancel=cancel_refusal(candidate, user) is None,
        can_break_glass=facts.freeze is not None and break_glass_refusal(candidate, user) is None,
        polling=candidate.status in (S.VALIDATING, S.PROMOTING),
        freeze=facts.freeze,
        operation=Operation.objects.filter(candidate=candidate).order_by("-pk").first(),
    )
