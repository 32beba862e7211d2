"""Incidents: the origin changed in a way ewsdash did not make.

The sync calls `incidents_detect_production` (inside its transaction) when production's head
moved: a head that no operation of ours planned and no release of ours names is
`production_moved_outside`. Release tags moved or deleted at the origin open
`release_tag_moved` / `release_tag_deleted`. Every incident is audited, shown on every
page (ewsdash.context_processors), and blocks promotions (releases.gates) until an admin
acknowledges it (releases.operations.incident_acknowledge): adopt it with a reason, or roll
it back.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from releases.audit import audit_record
from releases.models import (
    Incident,
    IncidentKind,
    Operation,
    OperationStatus,
    Release,
    ReleaseKind,
    Repository,
)

OURS = (ReleaseKind.PROMOTION, ReleaseKind.HOTFIX, ReleaseKind.ROLLBACK)


def _made_by_us(repository: Repository, ref: str, commit: str) -> bool:
    """Whether an operation of ours pushed `commit` to `ref` (or a release of ours is it)."""
    if Release.objects.filter(repository=repository, commit=commit, kind__in=OURS).exists():
        return True
    for planned in Operation.objects.filter(
        repository=repository,
        status__in=(OperationStatus.RUNNING, OperationStatus.SUCCEEDED),
    ).values_list("planned", flat=True)[:200]:
        if planned.get(ref) == commit:
            return True
    return False


def incident_open(
    *,
    repository: Repository,
    kind: str,
    ref: str,
    commit: str,
    previous_commit: str = "",
    detail: str = "",
    actor: Any = None,
) -> Incident | None:
    """Open an incident and audit it (inside the caller's transaction); None if one is open
    already for the same kind, ref and commit."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("incident_open runs inside the caller's transaction")
    if Incident.objects.filter(
        repository=repository, kind=kind, ref=ref, commit=commit, acknowledged_at__isnull=True
    ).exists():
        return None
    incident = Incident.objects.create(
        repository=repository,
        kind=kind,
        ref=ref,
        commit=commit,
        previous_commit=previous_commit,
        detail=detail,
    )
    audit_record(
        actor=actor,
        action="incident.opened",
        obj=incident,
        repository=repository,
        payload={
            "kind": kind,
            "ref": ref,
            "commit": commit,
            "previous": previous_commit,
            "detail": detail,
        },
    )
    return incident


def incidents_detect_production(
    *, repository: Repository, previous_head: str, head: str, actor: Any = None
) -> Incident | None:
    """Production moved from `previous_head` to `head`: an incident unless we did it."""
    if not previous_head or not head or previous_head == head:
        return None
    ref = f"refs/heads/{repository.production_branch}"
    if _made_by_us(repository, ref, head):
        return None
    return incident_open(
        repository=repository,
        kind=IncidentKind.PRODUCTION_MOVED_OUTSIDE,
        ref=ref,
        commit=head,
        previous_commit=previous_head,
        detail=(
            f"{repository.production_branch} moved from {previous_head[:10]} to {head[:10]} "
            "without ewsdash: nobody approved it here."
        ),
        actor=actor,
    )


def incident_rollback_target(incident: Incident) -> Release | None:
    """The release production was before the incident, if one names that commit."""
    if not incident.previous_commit:
        return None
    return (
        Release.objects.filter(
            repository_id=incident.repository_id,
            commit=incident.previous_commit,
            on_production=True,
        )
        .order_by("-tagged_at")
        .first()
    )


def incidents_open(repository: Repository | None = None) -> list[Incident]:
    scope = Incident.objects.filter(acknowledged_at__isnull=True).select_related("repository")
    if repository is not None:
        scope = scope.filter(repository=repository)
    return list(scope.order_by("opened_at")[:20])


def incident_as_json(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.pk,
        "kind": incident.kind,
        "commit": incident.commit,
        "ref": incident.ref,
        "opened_at": incident.opened_at.isoformat(),
        "acknowledged_by": incident.acknowledged_by.get_username()
        if incident.acknowledged_by
        else None,
        "acknowledged_at": incident.acknowledged_at.isoformat()
        if incident.acknowledged_at
        else None,
        "resolution": incident.resolution or None,
        "reason": incident.reason,
    }
