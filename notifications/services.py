"""Changes to channels, webhooks, preferences and deliveries, audited like every other
change. Neither a channel's URL, a person's chat URL nor a webhook's secret is ever logged."""

from __future__ import annotations

from typing import Any

import apprise
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ewsdash.queue import NOTIFICATION_DELIVER, enqueue_on_commit
from notifications.audiences import preferences_of
from notifications.catalogue import EVENT_KEYS
from notifications.delivery import personal_scheme_allowed
from notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    PersonalSettings,
    Preference,
    Webhook,
)
from notifications.secrets import secret_encrypt
from releases.audit import audit_record
from releases.errors import ActionRefused
from releases.models import Repository

MIN_SECRET_LENGTH = 16


def channel_save(*, channel: Channel, actor: Any, created: bool) -> Channel:
    with transaction.atomic():
        channel.full_clean()
        channel.save()
        audit_record(
            actor=actor,
            action="channel.created" if created else "channel.changed",
            obj=channel,
            repository=channel.repository,
            payload={"events": channel.events, "enabled": channel.enabled},
        )
    return channel


def channel_delete(*, channel: Channel, actor: Any) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="channel.deleted",
            obj=channel,
            repository=channel.repository,
        )
        channel.delete()


def webhook_save(*, webhook: Webhook, actor: Any, created: bool, secret: str = "") -> Webhook:
    """Save a webhook; a non-empty `secret` replaces the stored one (required when new)."""
    if secret and len(secret) < MIN_SECRET_LENGTH:
        raise ActionRefused(f"A webhook secret has at least {MIN_SECRET_LENGTH} characters.")
    if created and not secret:
        raise ActionRefused("A new webhook needs a secret.")
    with transaction.atomic():
        if secret:
            webhook.secret_encrypted = secret_encrypt(secret)
        webhook.full_clean()
        webhook.save()
        audit_record(
            actor=actor,
            action="webhook.created" if created else "webhook.changed",
            obj=webhook,
            repository=webhook.repository,
            payload={
                "url": webhook.url,
                "events": webhook.events,
                "enabled": webhook.enabled,
                "secret_changed": bool(secret),
            },
        )
    return webhook


def webhook_delete(*, webhook: Webhook, actor: Any) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor, action="webhook.deleted", obj=webhook, repository=webhook.repository
        )
        webhook.delete()


def preferences_save(
    *,
    user: Any,
    email_on: set[str],
    chat_on: set[str] | None = None,
    repository_ids: set[int] | None = None,
    chat_url: str = "",
    chat_url_remove: bool = False,
) -> list[str]:
    """Store the user's choice for every event key: e-mail on for those in `email_on`,
    chat on for those in `chat_on`; their repositories (None: unchanged; empty: all); a
    non-empty `chat_url` replaces the stored one, `chat_url_remove` deletes it. Returns
    the keys that changed. Audited, without the chat URL."""
    chat_on = chat_on or set()
    unknown = (email_on | chat_on) - set(EVENT_KEYS)
    if unknown:
        raise ActionRefused(f"Unknown events: {', '.join(sorted(unknown))}.")
    chat_url = chat_url.strip()
    if chat_url and not apprise.Apprise.instantiate(chat_url, suppress_exceptions=True):
        raise ActionRefused("apprise does not understand that chat URL.")
    if chat_url and not personal_scheme_allowed(chat_url):
        raise ActionRefused(
            "A personal chat URL must use one of these services: "
            f"{', '.join(settings.EWSDASH_NOTIFY_PERSONAL_SCHEMES)}."
        )
    repositories = None
    if repository_ids is not None:
        repositories = list(Repository.objects.filter(pk__in=repository_ids).order_by("name"))
        if len(repositories) != len(repository_ids):
            raise ActionRefused("Unknown repositories.")
    with transaction.atomic():
        # What the user got before: their choices, else their role's defaults.
        before = {row.key: (row.email, row.chat) for row in preferences_of(user=user)}
        for key in EVENT_KEYS:
            Preference.objects.update_or_create(
                user=user,
                event_key=key,
                defaults={"email": key in email_on, "chat": key in chat_on},
            )
        changed = [
            key for key in EVENT_KEYS if before.get(key) != (key in email_on, key in chat_on)
        ]
        own, _ = PersonalSettings.objects.get_or_create(user=user)
        if chat_url_remove:
            own.chat_url_encrypted = ""
        elif chat_url:
            own.chat_url_encrypted = secret_encrypt(chat_url)
        own.save()
        if repositories is not None:
            own.repositories.set(repositories)
        audit_record(
            actor=user,
            action="notification_preferences.changed",
            obj=user,
            payload={
                "email_on": sorted(email_on),
                "chat_on": sorted(chat_on),
                "changed": changed,
                "repositories": [repository.name for repository in own.repositories.all()],
                "chat_url_changed": bool(chat_url) and not chat_url_remove,
                "chat_url_removed": chat_url_remove,
            },
        )
    return changed


def delivery_redeliver(*, delivery: Delivery, actor: Any) -> Delivery:
    """Send a finished delivery again (same body, same delivery id), as a fresh attempt
    series: back to pending, its earlier attempts kept in the log."""
    if not actor.has_perm("notifications.redeliver_delivery"):
        raise ActionRefused("Your role does not allow this (redeliver a delivery).")
    with transaction.atomic():
        row = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if row.status not in (DeliveryStatus.SENT, DeliveryStatus.FAILED):
            raise ActionRefused(
                f"Delivery #{row.pk} is {row.status}: it is still being sent; wait for it."
            )
        now = timezone.now()
        previous = row.status
        row.attempt_log = [*row.attempt_log, {"at": now.isoformat(), "redelivered_by": str(actor)}]
        row.status, row.attempts, row.next_attempt_at = DeliveryStatus.PENDING, 0, now
        row.claimed_at = row.sent_at = None
        row.save()
        audit_record(
            actor=actor,
            action="delivery.redelivered",
            obj=row,
            repository=row.event.repository_name,
            payload={"event_key": row.event_key, "previous_status": previous},
        )
        enqueue_on_commit(NOTIFICATION_DELIVER, delivery_id=row.pk)
    return row
