"""The reaper: settles checks whose worker died, so nothing stays `running` for ever.

When a worker dies (SIGKILL, OOM, hard time limit), the broker redelivers its message
only much later (Redis: after the visibility timeout, hours), so the reaper does not wait
for that: a running check whose heartbeat is older than the timeout goes back to
`queued` with a new message (or to `error` after MAX_CLAIMS claims). The broker's late
redelivery then finds the check claimed or finished and does nothing. Beat runs it every
EWSDASH_REAPER_INTERVAL seconds.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from monitoring.external import external_checks_time_out
from monitoring.models import CheckResult, CheckStatus, ValidationRun
from monitoring.runs import check_enqueue_on_commit, checks_dispatch_ready, open_dependents
from releases.audit import audit_record

# A check whose worker died this many times is marked `error` instead of re-queued:
# a command that kills its worker every time must not loop for ever.
MAX_CLAIMS = 3


@dataclasses.dataclass
class ReapOutcome:
    requeued: list[int] = dataclasses.field(default_factory=list)
    abandoned: list[int] = dataclasses.field(default_factory=list)
    cancelled: list[int] = dataclasses.field(default_factory=list)
    resent: list[int] = dataclasses.field(default_factory=list)
    dispatched: list[int] = dataclasses.field(default_factory=list)
    timed_out: list[int] = dataclasses.field(default_factory=list)


def validation_reap_stale(
    *, heartbeat_timeout: float, resend_after: float | None = None
) -> ReapOutcome:
    """Settle checks whose worker died: re-queue them (or `error` after MAX_CLAIMS claims).

    A running check with no heartbeat for `heartbeat_timeout` seconds lost its worker. A
    check queued for longer than `resend_after` seconds gets a second message, in case the
    first was lost (the claim makes duplicates harmless). Beat runs this every
    EWSDASH_REAPER_INTERVAL seconds.
    """
    outcome = ReapOutcome()
    now = timezone.now()
    stale = list(
        CheckResult.objects.filter(
            status=CheckStatus.RUNNING, heartbeat_at__lt=now - timedelta(seconds=heartbeat_timeout)
        ).values_list("pk", "run_id")
    )
    for check_id, run_id in stale:
        with transaction.atomic():
            run = (
                ValidationRun.objects.select_for_update(of=("self",))
                .select_related("repository")
                .get(pk=run_id)
            )
            check = (
                CheckResult.objects.select_for_update()
                .filter(
                    pk=check_id,
                    status=CheckStatus.RUNNING,
                    heartbeat_at__lt=now - timedelta(seconds=heartbeat_timeout),
                )
                .first()
            )
            if check is None:
                continue  # it finished or beat again meanwhile
            silent = f"its worker ({check.claimed_by}) stopped responding"
            fields: dict[str, Any]
            if run.cancel_requested:
                fields = {"status": CheckStatus.CANCELLED, "summary": f"cancelled; {silent}"}
                outcome.cancelled.append(check_id)
                action = "validation.check_cancelled"
            elif check.claims >= MAX_CLAIMS:
                fields = {
                    "status": CheckStatus.ERROR,
                    "summary": f"{silent}, {check.claims} times; not retried again",
                }
                outcome.abandoned.append(check_id)
                action = "validation.check_abandoned"
            else:
                fields = {
                    "status": CheckStatus.QUEUED,
                    "queued_at": now,
                    "progress": f"re-queued: {silent}",
                }
                outcome.requeued.append(check_id)
                action = "validation.check_requeued"
            if fields["status"] != CheckStatus.QUEUED:
                fields["finished_at"] = now
            CheckResult.objects.filter(pk=check_id).update(claim_token="", **fields)
            audit_record(
                actor=None,
                action=action,
                obj=run,
                repository=run.repository,
                payload={"check": check.name, "claims": check.claims, "worker": check.claimed_by},
            )
            if fields["status"] == CheckStatus.QUEUED:
                check_enqueue_on_commit(check_id, check.timeout_s)
            else:
                checks_dispatch_ready(run)
                for dependent in open_dependents(run):
                    checks_dispatch_ready(dependent)

    if resend_after is not None:
        cutoff = now - timedelta(seconds=resend_after)
        for check_id, timeout_s in CheckResult.objects.filter(
            status=CheckStatus.QUEUED, queued_at__lt=cutoff
        ).values_list("pk", "timeout_s"):
            with transaction.atomic():
                if CheckResult.objects.filter(
                    pk=check_id, status=CheckStatus.QUEUED, queued_at__lt=cutoff
                ).update(queued_at=now):
                    outcome.resent.append(check_id)
                    check_enqueue_on_commit(check_id, timeout_s)

    # External checks (monitoring.external) whose report did not come by their deadline.
    outcome.timed_out = external_checks_time_out()

    # A wake-up can be lost when a run starts while its reference's check finishes in a
    # concurrent transaction; looking again here bounds the wait to one reaper interval.
    waiting = (
        ValidationRun.objects.filter(finished_at__isnull=True, checks__status=CheckStatus.WAITING)
        .values_list("pk", flat=True)
        .distinct()
    )
    for run_id in list(waiting):
        with transaction.atomic():
            run = ValidationRun.objects.select_for_update(of=("self",)).get(pk=run_id)
            outcome.dispatched += checks_dispatch_ready(run)

    return outcome
