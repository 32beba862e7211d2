"""Reads of the deliveries page, the Overview's failing-channel flag and a person's
notification settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from notifications.delivery import url_redacted
from notifications.models import Channel, Delivery, DeliveryStatus, PersonalSettings, Webhook
from notifications.secrets import secret_decrypt

TARGET_KINDS = ("channel", "webhook", "e-mail", "chat")


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
        rows = rows.filter(recipient__isnull=False, chat=False)
    elif target == "chat":
        rows = rows.filter(recipient__isnull=False, chat=True)
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


@dataclass(frozen=True)
class PersonalView:
    chat_url: str  # redacted, "" when none is stored
    repository_ids: set[int]  # empty: every repository


def personal_settings_of(*, user: Any) -> PersonalView:
    """The user's chat URL (redacted, never in clear) and chosen repositories (two queries)."""
    own = PersonalSettings.objects.filter(user=user).first()
    if own is None:
        return PersonalView("", set())
    stored = secret_decrypt(own.chat_url_encrypted) if own.chat_url_encrypted else ""
    ids = set(own.repositories.values_list("pk", flat=True))
    return PersonalView(url_redacted(stored) if stored else "", ids)
