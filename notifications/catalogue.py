"""The events that reach people: which audit actions, what the message says, who acts.

Each entry turns one audit action into a message: a title, a line saying what the reader
can do, and the page to open. An action not listed here notifies no one. Its `roles` are
the default routing table: people holding one of them are e-mailed unless they opted out
(notifications/audiences.py); `to_creator` adds the candidate's creator.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from ewsdash.roles import ADMIN, ANALYST, RELEASE_MANAGER, VIEWER
from releases.models import AuditEvent


@dataclass(frozen=True)
class CatalogueEvent:
    key: str
    title: str  # formatted with repository, object and reason
    todo: str  # what the reader can do
    audience: str  # who is meant to act (shown in the README, said in the message)
    roles: tuple[str, ...] = ()  # who is e-mailed by default
    to_creator: bool = False  # the candidate's creator too


MANAGERS = (RELEASE_MANAGER, ADMIN)
EVERYONE = (VIEWER, ANALYST, RELEASE_MANAGER, ADMIN)


CANDIDATE = "releases.PromotionCandidate"
INCIDENT = "releases.Incident"

CATALOGUE: dict[str, CatalogueEvent] = {
    "candidate.validated": CatalogueEvent(
        "approval_requested",
        "{repository}: candidate {object} awaits approval",
        "Review its validation and changelog, then approve or reject it.",
        "release managers",
        MANAGERS,
    ),
    "candidate.validation_waived": CatalogueEvent(
        "approval_requested",
        "{repository}: candidate {object} awaits approval (validation waived)",
        "Read the waiver's reason, then approve or reject it.",
        "release managers",
        MANAGERS,
    ),
    "candidate.validation_failed": CatalogueEvent(
        "validation_failed",
        "{repository}: candidate {object} failed validation",
        "Open the failing checks; fix development and create a new candidate, or re-run it.",
        "the candidate's creator and release managers",
        MANAGERS,
        True,
    ),
    "candidate.approved": CatalogueEvent(
        "approved",
        "{repository}: candidate {object} is approved",
        "A release manager can promote it to production.",
        "release managers and the candidate's creator",
        MANAGERS,
        True,
    ),
    "candidate.released": CatalogueEvent(
        "promoted",
        "{repository}: promotion done, {object} is on production",
        "Nothing to do; the release page has its evidence.",
        "everyone on the repository",
        EVERYONE,
    ),
    "candidate.promotion_failed": CatalogueEvent(
        "promotion_failed",
        "{repository}: promotion of {object} failed",
        "Read git's error on the candidate page; production was left unchanged.",
        "release managers and the candidate's creator",
        MANAGERS,
        True,
    ),
    "release.rolled_back": CatalogueEvent(
        "rolled_back",
        "{repository}: production rolled back with {object}",
        "Check the back-port ledger: development still has the reverted changes.",
        "everyone on the repository",
        EVERYONE,
    ),
    "skill.degraded": CatalogueEvent(
        "skill_degraded",
        "{repository}: the live release's realized skill degraded ({object})",
        "Open the incident: roll back to the suggested release (preview and confirm) or adopt it.",
        "admins and release managers",
        MANAGERS,
    ),
    "freeze.created": CatalogueEvent(
        "freeze_started",
        "{repository}: promotions frozen",
        "Promotions are blocked until the freeze ends.",
        "release managers",
        MANAGERS,
    ),
    "drift_job.drift_found": CatalogueEvent(
        "drift_found",
        "{repository}: {object} found drift",
        "Open the drift job: read which models and columns drifted, and by how much.",
        "analysts and release managers",
        (ANALYST, RELEASE_MANAGER, ADMIN),
    ),
    "backport.overdue": CatalogueEvent(
        "backport_overdue",
        "{repository}: back-port overdue: {object}",
        "Merge production into development or cherry-pick it, or decide (with a reason) that "
        "development does not take it.",
        "release managers",
        MANAGERS,
    ),
    "incident.opened": CatalogueEvent(
        "incident_opened",
        "{repository}: incident: {object}",
        "An admin must acknowledge it (adopt it with a reason, or roll back); promotions wait.",
        "admins",
        (ADMIN,),
    ),
}

EVENT_KEYS = sorted({entry.key for entry in CATALOGUE.values()})


def entry_for(key: str) -> CatalogueEvent:
    """The first catalogue entry with this event key (its audience and routing)."""
    return next(entry for entry in CATALOGUE.values() if entry.key == key)


def object_url(event: AuditEvent) -> str:
    """The absolute address of the page about the event's object (its repository's else)."""
    name = event.repository_name
    if event.object_type == CANDIDATE and name:
        path = reverse("candidate_detail", kwargs={"name": name, "pk": int(event.object_id)})
    elif event.object_type == "monitoring.DriftJob" and name:
        path = reverse("drift_job_detail", kwargs={"name": name, "job_id": int(event.object_id)})
    elif event.object_type == INCIDENT and name:
        path = reverse("incident_list", kwargs={"name": name})
    elif name:
        path = reverse("repository_overview", kwargs={"name": name})
    else:
        path = reverse("overview")
    return settings.EWSDASH_PUBLIC_URL.rstrip("/") + path


def message_for(event: AuditEvent, entry: CatalogueEvent) -> tuple[str, str]:
    """The title and body of the message about `event`."""
    reason = (event.payload or {}).get("reason") or ""
    repository = event.repository_name or "ewsdash"
    title = entry.title.format(repository=repository, object=event.object_repr)
    lines = [
        title,
        "",
        f"By: {event.actor_name}",
        *([f"Why: {reason}"] if reason else []),
        f"For: {entry.audience}",
        f"What you can do: {entry.todo}",
        f"Open: {object_url(event)}",
        "",
        f"(audit event #{event.seq})",
    ]
    return title, "\n".join(lines)
