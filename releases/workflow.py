"""The promotion candidate's life, checked in one place.

    validating → validated | validation_failed → approved → promoting → released | promotion_failed
    rejected, superseded and cancelled end it early.

Every status change of a candidate goes through `candidate_transition`; a transition not
listed in TRANSITIONS raises, whichever entry point asked for it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from ewsdash import queue
from releases.audit import audit_record
from releases.errors import ActionRefused
from releases.models import (
    CANDIDATE_ENDINGS,
    CANDIDATE_OPEN,
    CANDIDATE_TERMINAL,
    Approval,
    CandidateStatus,
    Forge,
    PromotionCandidate,
)

S = CandidateStatus
ENDINGS = CANDIDATE_ENDINGS
TERMINAL = CANDIDATE_TERMINAL
OPEN = CANDIDATE_OPEN

TRANSITIONS: dict[str, frozenset[str]] = {
    S.VALIDATING: frozenset({S.VALIDATED, S.VALIDATION_FAILED, *ENDINGS}),
    # A re-run (back to validating) voids earlier approvals.
    S.VALIDATED: frozenset({S.APPROVED, S.VALIDATING, *ENDINGS}),
    # An admin waiver moves a failed validation on to validated.
    S.VALIDATION_FAILED: frozenset({S.VALIDATED, S.VALIDATING, *ENDINGS}),
    S.APPROVED: frozenset({S.PROMOTING, S.VALIDATING, *ENDINGS}),
    # Once the git work started, only its outcome may end it.
    S.PROMOTING: frozenset({S.RELEASED, S.PROMOTION_FAILED}),
    S.PROMOTION_FAILED: frozenset({S.PROMOTING, S.VALIDATING, *ENDINGS}),
    S.RELEASED: frozenset(),
    S.REJECTED: frozenset(),
    S.SUPERSEDED: frozenset(),
    S.CANCELLED: frozenset(),
}


class IllegalTransition(ActionRefused):
    pass


def check_transition(current: str, target: str) -> None:
    """Raise IllegalTransition unless a candidate may move from `current` to `target`."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"A {S(current).label} candidate cannot become {S(target).label}.")


def candidate_lock(candidate: PromotionCandidate) -> PromotionCandidate:
    """The candidate's row, locked for the caller's transaction, with its current status."""
    return (
        PromotionCandidate.objects.select_for_update(of=("self",))
        .select_related("repository")
        .get(pk=candidate.pk)
    )


def candidate_transition(
    candidate: PromotionCandidate,
    target: str,
    *,
    actor: Any,
    action: str,
    reason: str = "",
    payload: dict[str, Any] | None = None,
) -> None:
    """The one way a candidate's status changes, audited.

    The caller holds the candidate's row lock (`candidate_lock`) in its transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("candidate_transition runs inside the caller's transaction")
    check_transition(candidate.status, target)
    previous = candidate.status
    candidate.status = target
    candidate.status_reason = reason
    candidate.save()
    audit_record(
        actor=actor,
        action=action,
        obj=candidate,
        repository=candidate.repository,
        payload={"from": previous, "to": target, "reason": reason, **(payload or {})},
    )
    gates_changed(candidate)


def gates_changed(candidate: PromotionCandidate) -> None:
    """Something the gates read changed: on a forge, republish the ewsdash/gates status
    once the caller's transaction commits (a worker calls the forge, never this request)."""
    if candidate.repository.forge != Forge.DIRECT:
        queue.enqueue_on_commit(queue.CANDIDATE_GATES_PUBLISH, candidate_id=candidate.pk)


def approvals_void(candidate: PromotionCandidate, reason: str) -> int:
    """Void every live decision on the candidate (inside the caller's transaction)."""
    return Approval.objects.filter(candidate=candidate, voided_at__isnull=True).update(
        voided_at=timezone.now(), void_reason=reason
    )
