"""The promotion candidate's life, checked in one place.

    validating → validated | validation_failed → approved → promoting → released | promotion_failed
    rejected, superseded and cancelled end it early.

Every status change of a candidate goes through `candidate_transition`; a
transition not listed here raises, whichever entry point asked for it.
"""

from __future__ import annotations

from django.db import models

from releases.errors import ActionRefused


class CandidateStatus(models.TextChoices):
    VALIDATING = "validating", "validating"
    VALIDATED = "validated", "validated"
    VALIDATION_FAILED = "validation_failed", "validation failed"
    APPROVED = "approved", "approved"
    PROMOTING = "promoting", "promoting"
    RELEASED = "released", "released"
    PROMOTION_FAILED = "promotion_failed", "promotion failed"
    REJECTED = "rejected", "rejected"
    SUPERSEDED = "superseded", "superseded"
    CANCELLED = "cancelled", "cancelled"


S = CandidateStatus
ENDINGS = {S.REJECTED, S.SUPERSEDED, S.CANCELLED}
TERMINAL = frozenset({S.RELEASED, *ENDINGS})
# Statuses in which a candidate still competes for promotion.
OPEN = frozenset(set(S) - TERMINAL)

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
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"A {S(current).label} candidate cannot become {S(target).label}.")
