"""The outbox: a delivery row per target, written in the audit event's own transaction.

`outbox_write` runs from the audit writer (releases/audit.py sends `audit_recorded`), so
a message exists exactly when its change does: a rolled-back change leaves no message,
and a committed one always has its rows, whatever happens to the broker or a worker.
Targets: every channel and webhook that hears the event (its repository or all, its events
or all), and every person the routing table and their preferences name, once per medium chosen
(e-mail, their own chat URL; notifications/audiences.py).
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from ewsdash.queue import NOTIFICATION_DELIVER, enqueue_on_commit
from notifications.audiences import chat_recipients_for, recipients_for
from notifications.catalogue import CATALOGUE, message_for
from notifications.models import Channel, Delivery, Webhook
from notifications.webhooks import webhook_payload
from releases.models import AuditEvent


def _hearing(model: type[Channel] | type[Webhook], event: AuditEvent, key: str) -> list:
    rows = model.objects.filter(enabled=True).filter(
        Q(repository__isnull=True) | Q(repository__name=event.repository_name)
    )
    return [row for row in rows.order_by("pk") if row.hears(key)]


def outbox_write(*, event: AuditEvent) -> list[Delivery]:
    """Queue the event's message for every target (caller's transaction)."""
    entry = CATALOGUE.get(event.action)
    if entry is None:
        return []
    title, body = message_for(event, entry)
    now = timezone.now()
    common = {"event": event, "event_key": entry.key, "title": title, "next_attempt_at": now}
    channels = _hearing(Channel, event, entry.key)
    rows = [Delivery(channel=channel, body=body, **common) for channel in channels]
    rows += [Delivery(recipient=user, body=body, **common) for user in recipients_for(event, entry)]
    rows += [
        Delivery(recipient=user, chat=True, body=body, **common)
        for user in chat_recipients_for(event, entry)
    ]
    hooks = _hearing(Webhook, event, entry.key)
    if hooks:
        payload = webhook_payload(event, entry)
        rows += [Delivery(webhook=hook, body=payload, **common) for hook in hooks]
    if not rows:
        return []
    deliveries = Delivery.objects.bulk_create(rows)
    for delivery in deliveries:
        enqueue_on_commit(NOTIFICATION_DELIVER, delivery_id=delivery.pk)
    return deliveries
