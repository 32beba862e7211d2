"""Rows the permission matrix and the view tests need: a finished delivery."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from notifications.models import Channel, Delivery, DeliveryStatus
from releases.audit import audit_record


def sent_delivery(*, status: str = DeliveryStatus.SENT, channel_name: str = "matrix") -> int:
    """A delivery of a freeze notice to a chat channel, sent once (or `status`). The
    channel is switched off afterwards, so the next call's event does not reach it."""
    channel, _ = Channel.objects.update_or_create(
        name=channel_name, defaults={"url": "json://127.0.0.1:9/hook", "enabled": True}
    )
    with transaction.atomic():
        audit_record(actor="test", action="freeze.created", repository="pipeline")
    row = Delivery.objects.filter(channel=channel).order_by("-pk").first()
    assert row is not None
    now = timezone.now()
    Delivery.objects.filter(pk=row.pk).update(
        status=status,
        attempts=1,
        sent_at=now if status == DeliveryStatus.SENT else None,
        attempt_log=[{"at": now.isoformat(), "error": "" if status == "sent" else "HTTP 500"}],
        last_error="" if status == DeliveryStatus.SENT else "HTTP 500",
    )
    Channel.objects.filter(pk=channel.pk).update(enabled=False)
    return row.pk
