"""The outbox: a delivery row per channel, written in the audit event's own transaction.

`outbox_write` runs from the audit writer (releases/audit.py sends `audit_recorded`), so
a message exists exactly when its change does: a rolled-back change leaves no message,
and a committed one always has its rows, whatever happens to the broker or a worker.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from ewsdash.queue import NOTIFICATION_DELIVER, enqueue_on_commit
from notifications.catalogue import CATALOGUE, message_for
from notifications.models import Channel, Delivery
from releases.models import AuditEvent


def outbox_write(*, event: AuditEvent) -> list[Delivery]:
    """Queue the event's message for every channel that hears it (caller's transaction)."""
    entry = CATALOGUE.get(event.action)
    if entry is None:
        return []
    channels = Channel.objects.filter(enabled=True).filter(
        Q(repository__isnull=True) | Q(repository__name=event.repository_name)
    )
    listeners = [channel for channel in channels.order_by("pk") if channel.hears(entry.key)]
    if not listeners:
        return []
    title, body = message_for(event, entry)
    now = timezone.now()
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            event=event,
            channel=channel,
            event_key=entry.key,
            title=title,
            body=body,
            next_attempt_at=now,
        )
        for channel in listeners
    )
    for delivery in deliveries:
        enqueue_on_commit(NOTIFICATION_DELIVER, delivery_id=delivery.pk)
    return deliveries
