"""Where messages go (channels) and the outbox of messages to send (deliveries)."""

from __future__ import annotations

from django.db import models

from releases.models import AuditEvent, Repository


class Channel(models.Model):
    """An apprise URL (mailto://, slack://, msteams://, matrix://, ...) and what it hears.

    A channel without a repository hears every repository; one without events hears every
    event of the catalogue (notifications/catalogue.py).
    """

    name = models.CharField(max_length=100, unique=True)
    url = models.TextField(help_text="An apprise URL; it may hold a secret and is never shown")
    repository = models.ForeignKey(
        Repository, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    events = models.JSONField(
        default=list, blank=True, help_text="Event keys of the catalogue; empty: all of them"
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    def hears(self, key: str) -> bool:
        return not self.events or key in self.events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Delivery(models.Model):
    """One message for one channel, written in the transaction of the audit event behind it.

    A worker claims it (pending → sending, with a claim time), sends it, and finishes it
    (sent, or pending again with the error and a later `next_attempt_at`, or failed after
    the last attempt). A claim older than the lease belongs to a dead worker and is taken
    again, so a message is never lost.
    """

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="deliveries")
    event_key = models.CharField(max_length=50)
    title = models.TextField()
    body = models.TextField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # Every attempt: {"at": iso time, "error": "" or what went wrong}.
    attempt_log = models.JSONField(default=list, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "channel"], name="one_delivery_per_channel")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.event_key} → {self.channel_id} ({self.status})"
