"""A worker's hold on one check: claim it, beat, write its result once.

A task claims its check with a conditional UPDATE (queued -> running, fresh token), so a
second message for the same check finds nothing to claim and returns. While it runs, the
worker writes `heartbeat_at` every EWSDASH_CHECK_HEARTBEAT_INTERVAL; every later write
is conditional on its token, so a worker that lost its claim (the reaper gave the check
to another worker) writes nothing. See monitoring.reaper for what happens when a worker
dies.
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from monitoring.artifacts import artifact_store
from monitoring.models import (
    CHECK_FINAL,
    Artifact,
    CheckArtifact,
    CheckResult,
    CheckStatus,
    ModelMetric,
    RunStatus,
    ValidationRun,
)
from monitoring.runs import checks_dispatch_ready, open_dependents
from monitoring.validation import MetricRow
from monitoring.validation.storable import clean_text
from releases.audit import audit_record


@dataclasses.dataclass(frozen=True)
class Claim:
    check: CheckResult
    token: str


def claim_take(*, check_id: int, worker: str) -> Claim | None:
    """Take a queued check for this worker, or None when it is not queued (any more).

    The conditional UPDATE is the lock: of two deliveries of the same message, one gets
    the row and the other gets nothing.
    """
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        taken = CheckResult.objects.filter(pk=check_id, status=CheckStatus.QUEUED).update(
            status=CheckStatus.RUNNING,
            claim_token=token,
            claimed_by=worker[:200],
            heartbeat_at=now,
            started_at=now,
            progress="starting",
            claims=F("claims") + 1,
        )
        if not taken:
            return None
        check = CheckResult.objects.select_related("run__repository", "run__reference").get(
            pk=check_id
        )
        ValidationRun.objects.filter(pk=check.run_id, started_at__isnull=True).update(
            started_at=now
        )
        ValidationRun.objects.filter(pk=check.run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.RUNNING
        )
    return Claim(check=check, token=token)


def claim_release(*, claim: Claim) -> bool:
    """Give a claimed check back to the queue (an infrastructure error will be retried)."""
    return bool(
        CheckResult.objects.filter(
            pk=claim.check.pk, claim_token=claim.token, status=CheckStatus.RUNNING
        ).update(
            status=CheckStatus.QUEUED,
            claim_token="",
            queued_at=timezone.now(),
            progress="waiting to retry",
        )
    )


def claim_heartbeat(
    *,
    claim: Claim,
    progress: str | None = None,
    log_text: str | None = None,
    log_bytes: int | None = None,
    log_omitted: int | None = None,
) -> bool:
    """Record that the worker is alive (and the live log); True while it should go on.

    False when the run was cancelled or the claim was lost (the reaper gave the check to
    another worker): either way the command must stop.
    """
    fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
    if progress is not None:
        fields["progress"] = clean_text(progress[:300])
    if log_text is not None:
        fields.update(
            log=clean_text(log_text), log_bytes=log_bytes or 0, log_bytes_omitted=log_omitted or 0
        )
    held = CheckResult.objects.filter(
        pk=claim.check.pk, claim_token=claim.token, status=CheckStatus.RUNNING
    ).update(**fields)
    if not held:
        return False
    return not ValidationRun.objects.filter(pk=claim.check.run_id, cancel_requested=True).exists()


def claim_is_held(*, claim: Claim) -> bool:
    """The read-only half of `claim_heartbeat`: still ours, and the run not cancelled."""
    return CheckResult.objects.filter(
        pk=claim.check.pk,
        claim_token=claim.token,
        status=CheckStatus.RUNNING,
        run__cancel_requested=False,
    ).exists()


@dataclasses.dataclass
class CheckReport:
    """What a worker found; written by `claim_finish` exactly once."""

    status: str
    summary: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    exit_code: int | None = None
    duration_s: float | None = None
    log_text: str = ""
    log_bytes: int = 0
    log_omitted: int = 0
    # (original name, path on disk, kind, rows)
    files: list[tuple[str, Path, str, int | None]] = dataclasses.field(default_factory=list)
    metrics: list[MetricRow] = dataclasses.field(default_factory=list)
    directions: dict[str, str] = dataclasses.field(default_factory=dict)


def claim_finish(*, claim: Claim, report: CheckReport) -> bool:
    """Write a check's result under its claim, once; then dispatch what waited for it.

    Returns False (and writes nothing) when the claim no longer holds: the check was
    re-queued to another worker, or finished already.
    """
    if report.status not in CHECK_FINAL:
        raise ValueError(f"{report.status!r} is not a final status")
    stored = [(name, artifact_store(path), kind, rows) for name, path, kind, rows in report.files]
    now = timezone.now()
    with transaction.atomic():
        # Locks in the order run, then check, everywhere (see the module docstring).
        run = (
            ValidationRun.objects.select_for_update(of=("self",))
            .select_related("repository")
            .get(pk=claim.check.run_id)
        )
        check = (
            CheckResult.objects.select_for_update()
            .filter(pk=claim.check.pk, claim_token=claim.token, status=CheckStatus.RUNNING)
            .first()
        )
        if check is None:
            return False
        check.status = report.status
        check.summary = report.summary
        check.details = report.details
        check.exit_code = report.exit_code
        check.duration_s = report.duration_s
        check.log = report.log_text
        check.log_bytes = report.log_bytes
        check.log_bytes_omitted = report.log_omitted
        check.finished_at = now
        check.heartbeat_at = now
        check.progress = ""
        check.save()
        CheckArtifact.objects.bulk_create(
            [
                CheckArtifact(
                    check_result=check, artifact=artifact, name=name[:500], kind=kind, rows=rows
                )
                for name, artifact, kind, rows in _unique_names(stored)
            ]
        )
        ModelMetric.objects.bulk_create(
            [
                ModelMetric(
                    run=run,
                    check_result=check,
                    model=row.model,
                    target=row.target,
                    metric=row.metric,
                    step=row.step,
                    value=row.value,
                    direction=report.directions.get(row.metric, ""),
                )
                for row in _unique_metrics(report.metrics)
            ]
        )
        audit_record(
            actor=None,
            action="validation.check_finished",
            obj=run,
            repository=run.repository,
            payload={
                "check": check.name,
                "status": check.status,
                "summary": check.summary[:500],
                "commit": run.commit,
                "attempt": run.attempt,
            },
        )
        for corrupted in report.details.get("artifact_corrupted", []):
            audit_record(
                actor=None,
                action="artifact.corrupted",
                obj=run,
                repository=run.repository,
                payload={"check": check.name, "commit": run.commit, **corrupted},
            )
        checks_dispatch_ready(run)
        for dependent in open_dependents(run):
            checks_dispatch_ready(dependent)
    return True


def _unique_names(items: list[tuple[str, Artifact, str, int | None]]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item[0] not in seen:
            seen.add(item[0])
            out.append(item)
    return out


def _unique_metrics(rows: list[MetricRow]) -> list[MetricRow]:
    # A metrics file with a repeated key fails the performance check; store its first value.
    seen: set[tuple[Any, ...]] = set()
    out = []
    for row in rows:
        if row.key not in seen:
            seen.add(row.key)
            out.append(row)
    return out
