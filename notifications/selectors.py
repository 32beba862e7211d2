"""Reads of the deliveries page and the Overview's failing-channel flag."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from notifications.delivery import url_redacted
from notifications.models import Channel, Delivery, DeliveryStatus, Webhook

TARGET_KINDS = ("channel", "webhook", "e-mail")


def deliveries(*, status: str = "", event_key: str = "", target: str = "") -> QuerySet[Delivery]:
    """Deliveries, newest first, filtered by status, event key and target kind."""
    rows = Delivery.objects.select_related("channel", "webhook", "recipient", "event").defer(
        "body", "event__payload"
    )
    if status in DeliveryStatus.values:
        rows = rows.filter(status=status)
    if event_key:
        rows = rows.filter(event_key=event_key)
    if target == "channel":
        rows = rows.filter(channel__isnull=False)
    elif target == "webhook":
        rows = rows.filter(webhook__isnull=False)
    elif target == "e-mail":
        rows = rows.filter(recipient__isnull=False)
    return rows.order_by("-pk")


@dataclass(frozen=True)
class FailingTarget:
    kind: str  # channel or webhook
    name: str
    url: str  # redacted
    failures: int


def failing_targets() -> list[FailingTarget]:
    """Channels and webhooks whose last EWSDASH_NOTIFY_FAILING_AFTER attempts all failed
    (two queries)."""
    limit = settings.EWSDASH_NOTIFY_FAILING_AFTER
    channels = Channel.objects.filter(enabled=True, consecutive_failures__gte=limit)
    hooks = Webhook.objects.filter(enabled=True, consecutive_failures__gte=limit)
    return [
        FailingTarget(
            "channel", row.name, url_redacted(row.url) or row.emails, row.consecutive_failures
        )
        for row in channels.order_by("name")
    ] + [
        FailingTarget("webhook", row.name, url_redacted(row.url), row.consecutive_failures)
        for row in hooks.order_by("name")
    ]
