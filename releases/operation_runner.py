"""The worker's half of a git write: claim the operation, plan, record the plan, push, record.

    queued ──claim──> running ──plan──> (planned refs recorded) ──push──> succeeded
                         └── git or the origin refuses ──────────────────> failed

A message delivered twice finds nothing to claim. The worker writes `heartbeat_at` at
every step; a running operation whose heartbeat is older than
EWSDASH_OPERATION_STALE_AFTER (default: the git timeout plus a minute, longer than any one
git command can run) lost its worker. `operation_reconcile` (the reaper, or an admin's
button) then settles it by what the origin shows: every planned ref there with our object
→ the push landed and the outcome is recorded; none → failed, nothing was pushed. Lock
order as everywhere: the clone's file lock and git first, row locks after.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ewsdash import queue
from releases import candidates, forge_operations, git, operations, promotion
from releases.access import require_permission
from releases.audit import audit_record
from releases.clones import clone_session
from releases.errors import ActionRefused
from releases.models import (
    Forge,
    Operation,
    OperationKind,
    OperationStatus,
    PromotionCandidate,
)
from releases.operation_base import Plan, ref_landed
from releases.sync import repository_sync

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OperationKindSteps:
    plan: Callable[[Operation, git.GitRepo], Plan]
    record: Callable[[Operation], str]
    fail: Callable[[Operation, str], None] | None = None
    # Reconciling, when the origin lacks what was planned: a plan that finishes the work
    # the forge shows begun (a merged pull request still to tag), or None: nothing done.
    finish: Callable[[Operation, git.GitRepo], Plan | None] | None = None


KINDS: dict[str, OperationKindSteps] = {
    OperationKind.PROMOTE: OperationKindSteps(
        promotion.promotion_plan, promotion.promotion_record, promotion.promotion_fail
    ),
    OperationKind.ROLLBACK: OperationKindSteps(
        operations.rollback_plan, operations.rollback_record
    ),
    OperationKind.HOTFIX_CUT: OperationKindSteps(operations.hotfix_plan, operations.hotfix_record),
    OperationKind.BACK_MERGE: OperationKindSteps(
        operations.back_merge_plan, operations.back_merge_record
    ),
    # Pushes nothing: `_candidate_create_run` carries it out, outside the clone session
    # (the sync it starts takes the clone's lock itself).
    OperationKind.CANDIDATE_CREATE: OperationKindSteps(
        candidates.candidate_create_plan, candidates.candidate_create_not_recorded
    ),
}
# Kinds that write nothing at the origin: a dead worker left nothing to find there.
PUSHES_NOTHING = {OperationKind.CANDIDATE_CREATE}
# A forge guards production (github mode): promotion and rollback go through its pull
# requests (releases.forge_operations); the other kinds push as in direct mode.
FORGE_KINDS: dict[str, OperationKindSteps] = {
    OperationKind.PROMOTE: OperationKindSteps(
        forge_operations.promotion_plan,
        promotion.promotion_record,
        promotion.promotion_fail,
        forge_operations.promotion_finish,
    ),
    OperationKind.ROLLBACK: OperationKindSteps(
        forge_operations.rollback_plan,
        operations.rollback_record,
        finish=forge_operations.rollback_finish,
    ),
}


def steps_for(operation: Operation) -> OperationKindSteps:
    if operation.repository.forge != Forge.DIRECT and operation.kind in FORGE_KINDS:
        return FORGE_KINDS[operation.kind]
    return KINDS[operation.kind]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def stale_after() -> int:
    return int(settings.EWSDASH_OPERATION_STALE_AFTER)


def operation_is_stale(operation: Operation, *, seconds: float | None = None) -> bool:
    """Running, and no word from its worker for `seconds` (default: the setting)."""
    if operation.status != OperationStatus.RUNNING:
        return False
    limit = stale_after() if seconds is None else seconds
    beat = operation.heartbeat_at or operation.started_at
    return beat is None or beat <= timezone.now() - timedelta(seconds=limit)


def _load(operation_id: int) -> Operation:
    return Operation.objects.select_related(
        "repository", "requested_by", "candidate", "candidate__promoted_by"
    ).get(pk=operation_id)


def _claim(operation_id: int, worker: str) -> str | None:
    token = uuid.uuid4().hex
    now = timezone.now()
    taken = Operation.objects.filter(pk=operation_id, status=OperationStatus.QUEUED).update(
        status=OperationStatus.RUNNING,
        claim_token=token,
        claimed_by=worker[:200],
        claims=F("claims") + 1,
        started_at=now,
        heartbeat_at=now,
        progress="claimed by a worker",
    )
    return token if taken else None


def _beat(operation_id: int, token: str, progress: str, **fields: Any) -> bool:
    """Say where the worker is (and record `fields`); False when the claim was lost."""
    return bool(
        Operation.objects.filter(
            pk=operation_id, claim_token=token, status=OperationStatus.RUNNING
        ).update(heartbeat_at=timezone.now(), progress=progress[:300], **fields)
    )


def _settle(
    operation_id: int,
    *,
    outcome: str,
    error: str = "",
    result: dict[str, Any] | None = None,
    token: str | None = None,
    actor: Any = None,
    reconciled: str = "",
    record: Callable[[Operation], str] | None = None,
) -> str:
    """Record the outcome, the kind's rows and the audit events, in one transaction.

    With `token`, only while this worker still holds the claim; without (reconciling),
    only while the operation is still running.
    """
    with transaction.atomic():
        scope = Operation.objects.select_for_update(of=("self",)).filter(
            pk=operation_id, status=OperationStatus.RUNNING
        )
        if token is not None:
            scope = scope.filter(claim_token=token)
        locked = scope.select_related(
            "repository", "requested_by", "candidate", "candidate__promoted_by"
        ).first()
        if locked is None:
            return f"operation #{operation_id} is no longer ours; nothing recorded"
        steps = steps_for(locked)
        if result is not None:
            locked.result = result
        if outcome == OperationStatus.SUCCEEDED:
            summary = (record or steps.record)(locked)
        else:
            if steps.fail is not None:
                steps.fail(locked, error)
            summary = f"{locked.get_kind_display()} failed: {error}"
        locked.status = outcome
        locked.error = error
        locked.progress = (reconciled or summary)[:300]
        locked.finished_at = timezone.now()
        locked.claim_token = ""
        locked.reconciled = bool(reconciled)
        locked.save()
        audit_record(
            actor=actor if reconciled else locked.requested_by,
            action="operation.reconciled" if reconciled else f"operation.{outcome}",
            obj=locked,
            repository=locked.repository,
            payload={
                "kind": locked.kind,
                "outcome": outcome,
                "planned": locked.planned,
                "error": error,
                "worker": locked.claimed_by,
                "how": reconciled,
            },
        )
    return summary


def _sync_after(operation: Operation) -> None:
    """Pages learn the new refs at once; a failure here is the next sync's job."""
    try:
        repository_sync(repository=operation.repository, actor=operation.requested_by, force=True)
    except Exception:  # noqa: BLE001 - the operation is recorded; the sync retries on beat
        log.exception("sync after operation #%s failed", operation.pk)


def operation_run(*, operation_id: int, worker: str | None = None) -> str:
    """The operation task's body. Safe to deliver twice; settles a dead claimant's leftover."""
    worker = worker or worker_name()
    token = _claim(operation_id, worker)
    if token is None:
        operation = _load(operation_id)
        if operation_is_stale(operation):
            return operation_reconcile(operation=operation, actor=None)
        return f"operation #{operation_id} is {operation.status}; nothing to do"
    operation = _load(operation_id)
    if operation.kind in PUSHES_NOTHING:
        return _candidate_create_run(operation, token)
    steps = steps_for(operation)
    try:
        with clone_session(operation.repository) as repo:
            _beat(operation_id, token, "fetching from the origin")
            repo.fetch()
            _beat(operation_id, token, "writing the git objects")
            plan = steps.plan(operation, repo)
            if plan.updates:
                # Recorded (and committed) before the push: reconciling needs nothing else.
                if not _beat(
                    operation_id,
                    token,
                    f"pushing {', '.join(sorted(plan.updates))} to the origin",
                    planned=plan.planned,
                    result=plan.result,
                ):
                    return f"operation #{operation_id} lost its claim before pushing"
                git.push_atomic(repo, plan.updates)
    except (git.GitError, ActionRefused) as error:
        return _settle(operation_id, outcome=OperationStatus.FAILED, error=str(error), token=token)
    summary = _settle(
        operation_id, outcome=OperationStatus.SUCCEEDED, result=plan.result, token=token
    )
    _sync_after(operation)
    return summary


def _candidate_create_run(operation: Operation, token: str) -> str:
    """Sync, freeze the branch head, then record the candidate and settle the operation in
    one transaction: a worker dying before that commit leaves no candidate, and the
    reaper fails the operation."""
    params = operation.params
    _beat(operation.pk, token, "syncing with the origin and reading the commits")
    try:
        frozen = candidates.candidate_freeze(
            repository=operation.repository,
            actor=operation.requested_by,
            source_branch=params.get("source", ""),
            version=params.get("version", ""),
        )
    except (git.GitError, ActionRefused) as error:
        return _settle(operation.pk, outcome=OperationStatus.FAILED, error=str(error), token=token)
    if not _beat(operation.pk, token, f"recording the candidate at {frozen.proposal.commit[:10]}"):
        return f"operation #{operation.pk} lost its claim before recording"

    def record(locked: Operation) -> str:
        candidate = candidates.candidate_record(
            repository=locked.repository, actor=locked.requested_by, frozen=frozen
        )
        locked.candidate = candidate
        locked.result = {
            "candidate": candidate.pk,
            "commit": candidate.commit,
            "version": candidate.version,
        }
        return (
            f"candidate #{candidate.pk} ({candidate.version}) created at "
            f"{candidate.commit[:10]}; staging validation is queued"
        )

    return _settle(operation.pk, outcome=OperationStatus.SUCCEEDED, token=token, record=record)


def operation_reconcile(*, operation: Operation, actor: Any, force: bool = False) -> str:
    """Settle a running operation whose worker died, by what the origin shows.

    Every planned ref at the origin with our object → succeeded (its rows are recorded
    now); none, or no plan recorded yet → failed, and nothing was pushed. Through a forge,
    a merged pull request is finished instead (releases.forge_operations). Refused while
    its worker still reports (unless `force`, for the reaper's own staleness rule).
    """
    if actor is not None:
        require_permission(actor, "reconcile_operation")
    operation = _load(operation.pk)
    if operation.status != OperationStatus.RUNNING:
        if actor is not None:
            raise ActionRefused(f"Operation #{operation.pk} is {operation.status}; nothing to do.")
        return f"operation #{operation.pk} is {operation.status}; nothing to do"
    if not force and not operation_is_stale(operation):
        raise ActionRefused(
            f"Its worker ({operation.claimed_by}) reported at "
            f"{operation.heartbeat_at:%H:%M:%S} UTC and may still be pushing; it can be "
            f"reconciled once it has been silent for {stale_after()} s."
        )
    who = f"its worker ({operation.claimed_by}) stopped"
    if operation.kind in PUSHES_NOTHING:
        # Its outcome and its rows commit together: not settled means nothing recorded.
        how = f"{who} before it recorded anything; nothing was created"
        return _settle(
            operation.pk, outcome=OperationStatus.FAILED, error=how, actor=actor, reconciled=how
        )
    finished: Plan | None = None
    with clone_session(operation.repository) as repo:
        repo.fetch()
        steps = steps_for(operation)
        # Through a forge, the forge says first: a merged pull request is finished (its
        # tag written and pushed if missing) whatever was recorded; None: judge by refs.
        if steps.finish is not None:
            finished = steps.finish(operation, repo)
            if finished is not None:
                Operation.objects.filter(pk=operation.pk).update(
                    planned=finished.planned or operation.planned, result=finished.result
                )
                if finished.updates:
                    git.push_atomic(repo, finished.updates)
        landed = {ref: ref_landed(repo, ref, oid) for ref, oid in operation.planned.items()}
    if finished is not None:
        how = f"{who}; the forge shows its pull request merged: finished and recorded as done"
        summary = _settle(
            operation.pk,
            outcome=OperationStatus.SUCCEEDED,
            result=finished.result,
            actor=actor,
            reconciled=how,
        )
        _sync_after(operation)
        return summary
    if landed and all(landed.values()):
        how = f"{who}; the origin shows every ref it pushed: recorded as done"
        summary = _settle(
            operation.pk, outcome=OperationStatus.SUCCEEDED, actor=actor, reconciled=how
        )
        _sync_after(operation)
        return summary
    if any(landed.values()):
        how = f"{who}; the origin shows only part of its push: {landed}"
    elif landed:
        how = f"{who} before its push reached the origin; nothing was pushed"
    else:
        how = f"{who} before it pushed anything"
    return _settle(
        operation.pk, outcome=OperationStatus.FAILED, error=how, actor=actor, reconciled=how
    )


def operations_reap_stale(*, resend_after: float | None = None) -> dict[str, list[int]]:
    """Beat's sweep: reconcile operations whose worker died; resend lost messages."""
    outcome: dict[str, list[int]] = {"reconciled": [], "unreachable": [], "resent": []}
    cutoff = timezone.now() - timedelta(seconds=stale_after())
    stale = Operation.objects.filter(status=OperationStatus.RUNNING, heartbeat_at__lte=cutoff)
    for operation in stale.select_related("repository"):
        try:
            operation_reconcile(operation=operation, actor=None, force=True)
            outcome["reconciled"].append(operation.pk)
        except (git.GitError, ActionRefused) as error:
            log.warning("operation #%s: cannot reconcile yet: %s", operation.pk, error)
            outcome["unreachable"].append(operation.pk)
    if resend_after is not None:
        now = timezone.now()
        old = now - timedelta(seconds=resend_after)
        for operation_id in Operation.objects.filter(
            status=OperationStatus.QUEUED, queued_at__lte=old
        ).values_list("pk", flat=True):
            if Operation.objects.filter(
                pk=operation_id, status=OperationStatus.QUEUED, queued_at__lte=old
            ).update(queued_at=now):
                queue.enqueue(queue.OPERATION_RUN, operation_id=operation_id)
                outcome["resent"].append(operation_id)
    return outcome


def promotion_run(*, candidate_id: int) -> str:
    """Run the candidate's promote operation (the old promote task's entry point)."""
    candidate = PromotionCandidate.objects.get(pk=candidate_id)
    operation = (
        Operation.objects.filter(candidate=candidate, kind=OperationKind.PROMOTE)
        .order_by("-pk")
        .first()
    )
    if operation is None or not operation.is_active:
        return f"candidate #{candidate_id} is {candidate.status}; nothing to do"
    return operation_run(operation_id=operation.pk)
