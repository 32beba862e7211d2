"""Sending the outbox: claim a delivery, send it (apprise for channels, people's e-mail
and people's own chat URLs, a signed POST for webhooks), finish it.

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
from urllib.parse import urlsplit

import apprise
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.http import urlencode

from ewsdash.queue import NOTIFICATION_DELIVER, enqueue
from notifications.models import Channel, Delivery, DeliveryStatus, PersonalSettings, Webhook
from notifications.secrets import secret_decrypt
from notifications.webhooks import webhook_send

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


def mail_url(addresses: list[str]) -> str:
    """The site's mail URL (EWSDASH_NOTIFY_EMAIL_URL) sending to `addresses`, or ""."""
    base = settings.EWSDASH_NOTIFY_EMAIL_URL
    if not base or not addresses:
        return ""
    return f"{base}{'&' if '?' in base else '?'}{urlencode({'to': ','.join(addresses)})}"


def personal_scheme_allowed(url: str) -> bool:
    """Whether a person's own chat URL uses a service EWSDASH_NOTIFY_PERSONAL_SCHEMES allows."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    return scheme in {name.lower() for name in settings.EWSDASH_NOTIFY_PERSONAL_SCHEMES}


def personal_chat_url(user_id: int) -> str:
    """The person's decrypted chat URL, or "" (none stored, or the key changed)."""
    stored = (
        PersonalSettings.objects.filter(user_id=user_id)
        .values_list("chat_url_encrypted", flat=True)
        .first()
    )
    return secret_decrypt(stored) if stored else ""


def target_send(delivery: Delivery) -> str:
    """Send one claimed delivery to its target: "" when it went, else what went wrong."""
    if delivery.webhook_id:
        return webhook_send(delivery)
    if delivery.recipient_id and delivery.chat:
        url = personal_chat_url(delivery.recipient_id)
        missing = "no chat URL stored (removed, or EWSDASH_NOTIFY_SECRET_KEY changed)"
        if url and not personal_scheme_allowed(url):
            return (
                "the person's chat URL uses a service EWSDASH_NOTIFY_PERSONAL_SCHEMES "
                "no longer allows"
            )
    elif delivery.recipient_id:
        address = delivery.recipient.email if delivery.recipient else ""
        url = mail_url([address] if address else [])
        missing = "no mail server (EWSDASH_NOTIFY_EMAIL_URL) or no e-mail address"
    else:
        channel = delivery.channel
        assert channel is not None
        url = channel.url or mail_url(channel.addresses())
        missing = "an e-mail list needs EWSDASH_NOTIFY_EMAIL_URL"
    if not url:
        return missing
    return channel_send(url=url, title=delivery.title, body=delivery.body)


def _count_failures(delivery: Delivery, failed: bool) -> None:
    """A failure adds one to its channel's or webhook's failures in a row; a success resets."""
    for model, target_id in ((Channel, delivery.channel_id), (Webhook, delivery.webhook_id)):
        if target_id:
            rows = model.objects.filter(pk=target_id)
            rows.update(consecutive_failures=F("consecutive_failures") + 1 if failed else 0)


def url_redacted(url: str) -> str:
    """The URL with its secrets masked: as apprise masks them (tokens, passwords), else its
    scheme, host and port only (a path or query may hold a token too)."""
    if not url:
        return ""
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin:
        return str(plugin.url(privacy=True)).split("?", 1)[0]
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    rest = "/…" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{rest}"


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
    return Delivery.objects.select_related("channel", "webhook", "recipient").get(pk=delivery_id)


def delivery_send(*, delivery_id: int) -> DeliveryOutcome:
    """The deliver task's body: one attempt at one delivery."""
    claimed = delivery_claim(delivery_id=delivery_id)
    if claimed is None:
        return DeliveryOutcome("skipped")
    error = target_send(claimed)
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
        _count_failures(row, bool(error))
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
