"""Sending the outbox: claim a delivery, send it through apprise, finish it.

The claim is a conditional UPDATE (pending and due, or sending under a lease that ran
out because its worker died), so two workers never send the same row at once and a row
a dead worker held is taken again. Each attempt and its error is kept on the row; a
failure waits a doubling back-off before the next try, and the last allowed try marks
the row failed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import apprise
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ewsdash.queue import NOTIFICATION_DELIVER, enqueue
from notifications.models import Delivery, DeliveryStatus

BACKOFF_CAP_S = 3600


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str  # sent, pending (retry later), failed, or skipped (not claimable now)
    retry_in: int = 0  # seconds until the next try when pending
    error: str = ""


def backoff_seconds(attempts: int) -> int:
    """The wait after the `attempts`-th failed try: base, then doubling, capped at an hour."""
    return int(min(BACKOFF_CAP_S, settings.EWSDASH_NOTIFY_RETRY_BASE * 2 ** (attempts - 1)))


def channel_send(*, url: str, title: str, body: str) -> str:
    """Send one message through apprise: "" when it went, else what went wrong."""
    notifier = apprise.Apprise()
    with apprise.LogCapture(level=logging.WARNING) as logs:
        if not notifier.add(url):
            return "apprise does not understand the channel's URL"
        if notifier.notify(title=title, body=body):
            return ""
        return logs.getvalue().strip()[-2000:] or "apprise reported a failure"


def delivery_claim(*, delivery_id: int) -> Delivery | None:
    """Take the delivery for one attempt, or None when it is not due or someone holds it."""
    now = timezone.now()
    lease_over = now - timedelta(seconds=settings.EWSDASH_NOTIFY_LEASE)
    taken = (
        Delivery.objects.filter(pk=delivery_id)
        .filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=DeliveryStatus.SENDING, claimed_at__lt=lease_over)
        )
        .update(status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    )
    if taken != 1:
        return None
    return Delivery.objects.select_related("channel").get(pk=delivery_id)


def delivery_send(*, delivery_id: int) -> DeliveryOutcome:
    """The deliver task's body: one attempt at one delivery."""
    claimed = delivery_claim(delivery_id=delivery_id)
    if claimed is None:
        return DeliveryOutcome("skipped")
    error = channel_send(url=claimed.channel.url, title=claimed.title, body=claimed.body)
    return delivery_finish(claimed=claimed, error=error)


def delivery_finish(*, claimed: Delivery, error: str) -> DeliveryOutcome:
    """Record the attempt made under `claimed`'s claim (nothing if the claim was lost)."""
    now = timezone.now()
    with transaction.atomic():
        row = Delivery.objects.select_for_update().get(pk=claimed.pk)
        if row.status != DeliveryStatus.SENDING or row.claimed_at != claimed.claimed_at:
            return DeliveryOutcome("skipped")
        row.attempt_log = [*row.attempt_log, {"at": now.isoformat(), "error": error}]
        row.last_error = error
        row.claimed_at = None
        outcome: DeliveryOutcome
        if not error:
            row.status, row.sent_at = DeliveryStatus.SENT, now
            outcome = DeliveryOutcome("sent")
        elif row.attempts >= settings.EWSDASH_NOTIFY_MAX_ATTEMPTS:
            row.status = DeliveryStatus.FAILED
            outcome = DeliveryOutcome("failed", error=error)
        else:
            wait = backoff_seconds(row.attempts)
            row.status, row.next_attempt_at = DeliveryStatus.PENDING, now + timedelta(seconds=wait)
            outcome = DeliveryOutcome("pending", retry_in=wait, error=error)
        row.save()
    return outcome


def deliveries_resend_due(*, grace: int = 60) -> list[int]:
    """Queue again every delivery whose message was lost: due for a while, or held by a
    worker whose lease ran out. A duplicate message is harmless: only one claim wins."""
    now = timezone.now()
    lease_over = now - timedelta(seconds=settings.EWSDASH_NOTIFY_LEASE)
    due = list(
        Delivery.objects.filter(
            Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - timedelta(seconds=grace))
            | Q(status=DeliveryStatus.SENDING, claimed_at__lt=lease_over)
        ).values_list("pk", flat=True)[:500]
    )
    for delivery_id in due:
        enqueue(NOTIFICATION_DELIVER, delivery_id=delivery_id)
    return due
