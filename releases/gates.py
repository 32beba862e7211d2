"""What stands between a candidate and production, and who may act on it.

One selector (`gate_facts`) gathers every fact the gates need in a fixed number of
queries; one small function per gate judges it. The promote service and the candidate
page both call `gates(gate_facts(candidate))`, so the Promote button and the server's
decision can never disagree. The `*_refusal` predicates say why a person may not act
(None when they may); services raise them, pages show them beside disabled buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from releases.identities import confirmed_emails
from releases.models import (
    Approval,
    Branch,
    BranchKind,
    CandidateKind,
    Decision,
    Forge,
    FreezeWindow,
    GitIdentity,
    Incident,
    IncidentKind,
    PromotionCandidate,
    Repository,
    normalise_email,
)
from releases.workflow import OPEN, S


@dataclass(frozen=True)
class Gate:
    key: str
    label: str
    ok: bool
    detail: str


def active_freeze(repository: Repository, *, at: datetime | None = None) -> FreezeWindow | None:
    """The freeze window in force now (or at `at`), the one ending first if several are."""
    now = at or timezone.now()
    return (
        FreezeWindow.objects.filter(repository=repository, starts_at__lte=now, ends_at__gt=now)
        .order_by("ends_at")
        .first()
    )


@dataclass(frozen=True)
class GateFacts:
    """Everything the gates of one candidate depend on, read at one moment."""

    candidate: PromotionCandidate
    decisions: list[Approval]  # every decision ever made on it, voided ones included
    production_head: str | None
    other_promoting: int | None  # the id of another candidate being promoted
    freeze: FreezeWindow | None
    # Deciders who still may approve now: active, and holding the permission.
    approvers_now: frozenset[int] = frozenset()
    incident: Incident | None = None  # the oldest open incident of the repository

    @property
    def given_approvals(self) -> list[Approval]:
        """Approvals given for the frozen commit and current run, not voided."""
        candidate = self.candidate
        return [
            a
            for a in self.decisions
            if a.voided_at is None
            and a.decision == Decision.APPROVE
            and a.commit == candidate.commit
            and a.validation_run_id == candidate.validation_run_id
        ]

    def lapse_reason(self, approval: Approval) -> str | None:
        """Why a given approval no longer counts (re-checked at every read, so at promote
        time too): the approver lost the role, or their confirmed identities now make them
        an author, or they have none."""
        if approval.user_id not in self.approvers_now:
            return f"{approval.user} no longer holds a role that may approve"
        return identity_refusal(self.candidate, approval.user)

    @property
    def live_approvals(self) -> list[Approval]:
        """Approvals that count: given for the frozen commit and current run, by someone
        who may still approve it."""
        return [a for a in self.given_approvals if self.lapse_reason(a) is None]

    def has_decided(self, user: Any) -> bool:
        return any(a.user_id == user.pk and a.voided_at is None for a in self.decisions)


def gate_facts(*, candidate: PromotionCandidate) -> GateFacts:
    """The facts, in five queries (decisions with their people, production, promotions,
    the freeze, incidents). The candidate's repository and validation run should be loaded
    already."""
    repository = candidate.repository
    confirmed = GitIdentity.objects.filter(confirmed_at__isnull=False)
    # Whether each decider may still approve now (active, holding the permission through
    # a role, or a superuser), read with the decisions.
    may_approve_now = Exists(
        get_user_model()
        .objects.filter(pk=OuterRef("user_id"), is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(
                groups__permissions__codename="approve_candidate",
                groups__permissions__content_type__app_label="releases",
            )
        )
    )
    decisions: list[Approval] = list(
        Approval.objects.filter(candidate=candidate)
        .select_related("user")
        .annotate(may_approve_now=may_approve_now)
        .prefetch_related(
            Prefetch("user__git_identities", queryset=confirmed, to_attr="confirmed_identities")
        )
        .order_by("created_at", "pk")
    )
    approvers_now = frozenset(d.user_id for d in decisions if getattr(d, "may_approve_now"))  # noqa: B009
    return GateFacts(
        candidate=candidate,
        approvers_now=approvers_now,
        decisions=decisions,
        production_head=Branch.objects.filter(
            repository=repository, kind=BranchKind.PRODUCTION, gone_at__isnull=True
        )
        .values_list("head", flat=True)
        .first(),
        other_promoting=PromotionCandidate.objects.filter(repository=repository, status=S.PROMOTING)
        .exclude(pk=candidate.pk)
        .values_list("pk", flat=True)
        .first(),
        freeze=active_freeze(repository),
        # A skill incident (issue 18) asks for a decision but must not block the fix.
        incident=Incident.objects.filter(repository=repository, acknowledged_at__isnull=True)
        .exclude(kind=IncidentKind.SKILL_DEGRADED)
        .order_by("opened_at")
        .first(),
    )


# -- one function per gate --------------------------------------------------------------------


def gate_validation(facts: GateFacts) -> Gate:
    candidate, label = facts.candidate, "Staging validation"
    run = candidate.validation_run
    if candidate.waived_by_id:
        return Gate("validation", label, True, f"waived: {candidate.waiver_reason}")
    if run is None:
        return Gate("validation", label, False, "not started")
    detail = run.manifest_error or run.summary or run.status
    return Gate("validation", label, run.status == "passed", f"run #{run.pk}: {detail}")


def gate_contains_production(facts: GateFacts) -> Gate:
    candidate, label = facts.candidate, "Contains production's head"
    head = facts.production_head
    if head is not None and head != candidate.checked_production_head:
        return Gate(
            "contains_production",
            label,
            False,
            "production moved since this was checked; sync to re-check",
        )
    if candidate.contains_production_head:
        return Gate(
            "contains_production",
            label,
            True,
            f"contains {candidate.checked_production_head[:10]}",
        )
    what = (
        "development is behind production: merge production into development first"
        if candidate.kind == CandidateKind.PROMOTION
        else "the hotfix branch is not based on production's current head"
    )
    return Gate("contains_production", label, False, what)


def gate_no_other_promotion(facts: GateFacts) -> Gate:
    busy = facts.other_promoting
    detail = f"candidate #{busy} is promoting" if busy else "none"
    return Gate("none_promoting", "No other promotion in flight", busy is None, detail)


def gate_no_freeze(facts: GateFacts) -> Gate:
    label, freeze = "No freeze window", facts.freeze
    if freeze is None:
        return Gate("no_freeze", label, True, "none active")
    if facts.candidate.freeze_override_reason:
        return Gate(
            "no_freeze", label, True, f"glass broken: {facts.candidate.freeze_override_reason}"
        )
    until = f"{freeze.ends_at:%Y-%m-%d %H:%M} UTC"
    return Gate("no_freeze", label, False, f"frozen until {until}: {freeze.reason}")


def gate_no_incident(facts: GateFacts) -> Gate:
    label, incident = "No open incident", facts.incident
    if incident is None:
        return Gate("no_incident", label, True, "none")
    return Gate(
        "no_incident",
        label,
        False,
        f"incident #{incident.pk} ({incident.get_kind_display()}): an admin must adopt it or "
        "roll it back",
    )


def gate_approvals(facts: GateFacts) -> Gate:
    count = len(facts.live_approvals)
    required = facts.candidate.repository.required_approvals
    detail = f"{count} of {required}"
    lapsed = [reason for a in facts.given_approvals if (reason := facts.lapse_reason(a))]
    if lapsed:
        detail += " (no longer counted: " + "; ".join(lapsed) + ")"
    return Gate("approvals", "Approvals", count >= required, detail)


def gate_signed_commits(facts: GateFacts) -> Gate:
    """Only where the repository requires it: every commit signed by an allowed signer."""
    candidate, label = facts.candidate, "Signed commits"
    if not candidate.repository.require_signed_commits:
        return Gate("signed", label, True, "not required")
    unsigned = candidate.unsigned_commits
    if unsigned is None:
        return Gate("signed", label, False, "not checked: create the candidate again")
    if unsigned:
        shas = ", ".join(sha[:10] for sha in unsigned[:5])
        return Gate("signed", label, False, f"{len(unsigned)} without an allowed signature: {shas}")
    return Gate("signed", label, True, "every commit signed by an allowed signer")


def gate_version_file(facts: GateFacts) -> Gate:
    """The release's version equals the version file's (pipeline-core tagged 2.3.1 while
    its pyproject.toml said 2.3.0, and the package build failed)."""
    candidate = facts.candidate
    path = candidate.repository.version_file
    label = f"Version agrees with {path or 'the version file'}"
    if not path:
        return Gate("version_file", label, True, "not checked (no version file set)")
    if not candidate.version_in_file:
        return Gate("version_file", label, True, f"{path} declares no version")
    declared = candidate.version_in_file.removeprefix("v")
    if declared == candidate.version:
        return Gate("version_file", label, True, f"{path} says {declared}")
    return Gate(
        "version_file",
        label,
        False,
        f"{path} says {declared} but this release is {candidate.version}: bump it on "
        f"{candidate.source_branch} and create a new candidate",
    )


GATES: tuple[Callable[[GateFacts], Gate], ...] = (
    gate_validation,
    gate_version_file,
    gate_signed_commits,
    gate_contains_production,
    gate_no_other_promotion,
    gate_no_freeze,
    gate_no_incident,
    gate_approvals,
)


def gates(facts: GateFacts) -> list[Gate]:
    """The promotion checklist, in the order the page shows it."""
    return [gate(facts) for gate in GATES]


# -- who may do what (None: they may) ---------------------------------------------------------


# The statuses in which each action applies at all.
APPROVABLE = frozenset({S.VALIDATED, S.APPROVED})
PROMOTABLE = frozenset({S.APPROVED, S.PROMOTION_FAILED})
RERUNNABLE = frozenset({S.VALIDATED, S.VALIDATION_FAILED, S.APPROVED, S.PROMOTION_FAILED})


def _label(candidate: PromotionCandidate) -> str:
    return S(candidate.status).label


def _ended(candidate: PromotionCandidate) -> str | None:
    """What a finished candidate is, in words (None while it is open)."""
    status = candidate.status
    if status in OPEN:
        return None
    if status == S.RELEASED:
        return "This candidate is already released; nothing is left to decide."
    return f"This candidate was {_label(candidate)}; it can no longer change."


def _not_validated(candidate: PromotionCandidate) -> str | None:
    """What validation still lacks, or None once it passed (or was waived)."""
    if candidate.status == S.VALIDATING:
        return "Staging validation has not finished yet."
    if candidate.status == S.VALIDATION_FAILED:
        return (
            "Staging validation failed: re-run it after a fix, or an admin waives it with a reason."
        )
    return None


def missing_for_promotion(facts: GateFacts) -> list[str]:
    """What production still needs before this candidate may go in, one line per failing
    gate ("Approvals: 0 of 2"); empty when every gate holds."""
    return [f"{gate.label}: {gate.detail}" for gate in gates(facts) if not gate.ok]


def approve_refusal(candidate: PromotionCandidate, user: Any, facts: GateFacts) -> str | None:
    """Why `user` may not approve this candidate now."""
    if not user.has_perm("releases.approve_candidate"):
        return "Your role does not allow this (approve candidate)."
    if candidate.status not in APPROVABLE:
        return (
            _ended(candidate)
            or _not_validated(candidate)
            or "The promotion is under way; decisions are closed."
        )
    if candidate.created_by_id == user.pk:
        return "You created this candidate; another release manager must approve it."
    refusal = identity_refusal(candidate, user)
    if refusal:
        return refusal
    if facts.has_decided(user):
        return "You have already decided on this candidate."
    return None


def identity_refusal(candidate: PromotionCandidate, user: Any) -> str | None:
    """Who someone is in git decides whether they may approve: they need a confirmed
    identity, and (unless the repository allows it) none of their identities, nor their
    account's e-mail, may be an author or committer of the candidate's commits. E-mails
    compare case-insensitively and without a `+tag`."""
    identities = confirmed_emails(user)
    if not identities:
        return (
            f"{user} has no confirmed git identity; an admin must confirm the e-mail they "
            "commit as before they can approve."
        )
    if candidate.repository.authors_may_approve:
        return None
    people = {normalise_email(email) for email in candidate.commit_people}
    own = identities | ({normalise_email(user.email)} if user.email else set())
    if own & people:
        return (
            f"{user} authored or committed a commit in this candidate; this repository does "
            "not let authors approve their own changes."
        )
    return None


def reject_refusal(candidate: PromotionCandidate, user: Any) -> str | None:
    """Anyone who may approve may reject an open candidate (its creator included)."""
    if not user.has_perm("releases.approve_candidate"):
        return "Your role does not allow this (approve candidate)."
    if candidate.status == S.PROMOTING:
        return "The promotion is under way; it cannot be rejected now."
    return _ended(candidate)
    return None


def cancel_refusal(candidate: PromotionCandidate, user: Any) -> str | None:
    """Its creator or an admin may withdraw an open candidate."""
    if not user.has_perm("releases.create_candidate"):
        return "Your role does not allow this (create candidate)."
    if candidate.created_by_id != user.pk and not user.has_perm("releases.rollback_release"):
        return "Only the candidate's creator or an admin can cancel it."
    if candidate.status == S.PROMOTING:
        return "The promotion is under way; it cannot be cancelled now."
    return _ended(candidate)


def rerun_refusal(candidate: PromotionCandidate, user: Any) -> str | None:
    if not user.has_perm("releases.rerun_validation"):
        return "Your role does not allow this (rerun validation)."
    if candidate.status not in RERUNNABLE:
        return _ended(candidate) or f"Validation cannot start again while {_label(candidate)}."
    return None


def waive_refusal(candidate: PromotionCandidate, user: Any) -> str | None:
    if not user.has_perm("releases.waive_check"):
        return "Your role does not allow this (waive check)."
    if candidate.status != S.VALIDATION_FAILED:
        return _ended(candidate) or "Only a failed validation can be waived."
    return None


def promote_refusal(candidate: PromotionCandidate, user: Any, facts: GateFacts) -> str | None:
    """Why `user` may not promote now: their role, the candidate's state, a failing gate."""
    if not user.has_perm("releases.promote_candidate"):
        return "Your role does not allow this (promote candidate)."
    ended = _ended(candidate)
    if ended:
        return ended
    if candidate.status == S.PROMOTING:
        return "The promotion is under way."
    missing = missing_for_promotion(facts)
    if missing:
        return "Still missing: " + "; ".join(missing) + "."
    if candidate.status not in PROMOTABLE:  # every gate holds, the approvals just landed
        return f"A {_label(candidate)} candidate cannot be promoted yet; reload the page."
    if candidate.repository.forge != Forge.DIRECT and not candidate.forge_pull_request:
        return (
            "Its pull request on GitHub is not open yet (see the audit log); ewsdash opens it "
            "again at the next change of the gates."
        )
    return None


def break_glass_refusal(candidate: PromotionCandidate, user: Any) -> str | None:
    """Only an admin may promote through a freeze, and only a hotfix."""
    if candidate.kind != CandidateKind.HOTFIX or not user.has_perm("releases.manage_freeze"):
        return "Only an admin may break a freeze, and only for a hotfix."
    return None
