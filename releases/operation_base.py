"""Recording a git write as an operation row, before any git runs (the request's half).

A service checks what the database knows, then calls `operation_queue` inside its
transaction: the row is written (queued), audited, and a worker is asked to carry it out
once the transaction commits (releases.operation_runner). The kind's git work returns a
`Plan`: the refs it will push and the object ids they will point at, recorded on the row
before the push, so that whoever reconciles later can tell from the origin alone whether
the push landed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from ewsdash import queue
from releases import git
from releases.audit import audit_record
from releases.errors import ActionRefused
from releases.models import (
    OPERATION_ACTIVE,
    Operation,
    PromotionCandidate,
    Repository,
)


@dataclass(frozen=True)
class Plan:
    """What one operation pushes (`updates`: ref -> object id) and what it records after.

    Empty `updates` means the origin already shows the work done (an earlier attempt
    pushed it): the runner only records `result`.
    """

    updates: dict[str, str]
    result: dict[str, Any] = field(default_factory=dict)
    # Refs a forge moved for us through its API (production, by merging a pull request):
    # recorded with the plan, so sync and reconcile know them as ours, but not pushed.
    moved: dict[str, str] = field(default_factory=dict)

    @property
    def planned(self) -> dict[str, str]:
        return {**self.moved, **self.updates}


def operation_active(repository: Repository) -> Operation | None:
    return (
        Operation.objects.filter(repository=repository, status__in=OPERATION_ACTIVE)
        .order_by("pk")
        .first()
    )


def operation_queue(
    *,
    repository: Repository,
    kind: str,
    actor: Any,
    params: dict[str, Any] | None = None,
    candidate: PromotionCandidate | None = None,
) -> Operation:
    """Record a git write (queued) and queue it for a worker once this transaction commits.

    One operation at a time per repository: a second is refused while one is queued or
    running (the database's unique constraint backs the check made under the row lock).
    """
    with transaction.atomic():
        Repository.objects.select_for_update().get(pk=repository.pk)
        busy = operation_active(repository)
        if busy is not None:
            raise ActionRefused(
                f"Another git operation is under way (#{busy.pk}, {busy.get_kind_display()}, "
                f"{busy.status}); wait until it finishes."
            )
        now = timezone.now()
        operation = Operation.objects.create(
            repository=repository,
            kind=kind,
            requested_by=actor if getattr(actor, "pk", None) else None,
            candidate=candidate,
            params=params or {},
            progress="queued: waiting for a worker",
            queued_at=now,
        )
        audit_record(
            actor=actor,
            action="operation.queued",
            obj=operation,
            repository=repository,
            payload={
                "kind": kind,
                "params": params or {},
                "candidate": getattr(candidate, "pk", None),
            },
        )
        queue.enqueue_on_commit(queue.OPERATION_RUN, operation_id=operation.pk)
    return operation


def ref_landed(repo: git.GitRepo, ref: str, object_id: str) -> bool:
    """Whether the (fetched) clone shows `ref` as pushed by us.

    A tag must point at exactly our tag object; a branch must be at our commit or have
    moved on from it (development may gain commits after a back-merge).
    """
    try:
        if ref.startswith("refs/tags/"):
            return git.ref_object(repo, ref) == object_id
        head = git.ref_head(repo, ref)
        return head is not None and (head == object_id or git.is_ancestor(repo, object_id, head))
    except git.GitError:
        return False  # our object never reached this clone: it is not at the origin
