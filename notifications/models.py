"""Where messages go (channels, webhooks, people's e-mail), what people asked for
(preferences), and the outbox of messages to send (deliveries)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from releases.models import AuditEvent, Repository


class Channel(models.Model):
    """An apprise URL (mailto://, slack://, msteams://, matrix://, json://, ...) or an e-mail
    list sent through the site's mail server, and what it hears.

    A channel without a repository hears every repository; one without events hears every
    event of the catalogue (notifications/catalogue.py).
    """

    name = models.CharField(max_length=100, unique=True)
    url = models.TextField(
        blank=True, help_text="An apprise URL; it may hold a secret and is shown redacted"
    )
    emails = models.TextField(
        blank=True,
        help_text="Or: e-mail addresses (comma-separated), sent through EWSDASH_NOTIFY_EMAIL_URL",
    )
    repository = models.ForeignKey(
        Repository, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    events = models.JSONField(
        default=list, blank=True, help_text="Event keys of the catalogue; empty: all of them"
    )
    enabled = models.BooleanField(default=True)
    # Failed attempts since the last one that went through (notifications.delivery).
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if bool(self.url.strip()) == bool(self.emails.strip()):
            raise ValidationError("Give either an apprise URL or e-mail addresses, not both.")

    def hears(self, key: str) -> bool:
        return not self.events or key in self.events

    def addresses(self) -> list[str]:
        return [part.strip() for part in self.emails.split(",") if part.strip()]


class Webhook(models.Model):
    """An HTTP endpoint that receives each event it hears as signed JSON (README,
    "Outgoing webhooks"). Its secret is stored encrypted (notifications/secrets.py): it
    must be read back to sign, so it cannot be a hash; nobody is ever shown it again."""

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=500)
    secret_encrypted = models.TextField(editable=False)
    repository = models.ForeignKey(
        Repository, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    events = models.JSONField(
        default=list, blank=True, help_text="Event keys of the catalogue; empty: all of them"
    )
    enabled = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    def hears(self, key: str) -> bool:
        return not self.events or key in self.events


class Preference(models.Model):
    """One person's choice for one event: e-mail on or off, chat on or off. Without a row,
    the default routing table decides e-mail (notifications/catalogue.py: the event's
    roles); chat is off until chosen."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    event_key = models.CharField(max_length=50)
    email = models.BooleanField()
    chat = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "event_key"], name="one_preference_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.event_key}: {'on' if self.email else 'off'}"


class PersonalSettings(models.Model):
    """One person's chat URL and repository scope (README, "Your preferences").

    The chat URL (an apprise URL: a Slack/Teams/Matrix webhook, ...) usually holds a token:
    it is stored encrypted (notifications/secrets.py) and only ever shown redacted. Without
    chosen repositories, the person hears every repository.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    chat_url_encrypted = models.TextField(blank=True, editable=False)
    repositories = models.ManyToManyField(Repository, blank=True, related_name="+")

    def __str__(self) -> str:
        return f"notification settings of {self.user_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Delivery(models.Model):
    """One message for one target (a channel, a webhook, a person's e-mail or chat), written in
    the transaction of the audit event behind it.

    A worker claims it (pending → sending, with a claim time), sends it, and finishes it
    (sent, or pending again with the error and a later `next_attempt_at`, or failed after
    the last attempt). A claim older than the lease belongs to a dead worker and is taken
    again, so a message is never lost. A webhook's body is the exact JSON it signs.
    """

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="+")
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    webhook = models.ForeignKey(
        Webhook, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_deliveries",
    )
    # A person's delivery: True for their chat URL, False for their e-mail address.
    chat = models.BooleanField(default=False)
    event_key = models.CharField(max_length=50)
    title = models.TextField()
    body = models.TextField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # Every attempt: {"at": iso time, "error": "" or what went wrong}; a redelivery adds
    # {"at", "redelivered_by"}.
    attempt_log = models.JSONField(default=list, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "channel"], name="one_delivery_per_channel"),
            models.UniqueConstraint(fields=["event", "webhook"], name="one_delivery_per_webhook"),
            models.UniqueConstraint(
                fields=["event", "recipient", "chat"], name="one_delivery_per_recipient_medium"
            ),
            models.CheckConstraint(
                condition=(
                    Q(channel__isnull=False, webhook__isnull=True, recipient__isnull=True)
                    | Q(channel__isnull=True, webhook__isnull=False, recipient__isnull=True)
                    | Q(channel__isnull=True, webhook__isnull=True, recipient__isnull=False)
                ),
                name="delivery_has_one_target",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        verbose_name_plural = "deliveries"
        permissions = [("redeliver_delivery", "Can send a delivery again")]

    def __str__(self) -> str:
        return f"{self.event_key} → {self.target_name} ({self.status})"

    @property
    def target_kind(self) -> str:
        if self.webhook_id:
            return "webhook"
        if self.recipient_id:
            return "chat" if self.chat else "e-mail"
        return "channel"

    @property
    def target_name(self) -> str:
        """Needs channel, webhook and recipient loaded (select_related) to cost no query."""
        if self.webhook_id:
            return str(self.webhook)
        if self.recipient_id:
            return self.recipient.get_username() if self.recipient else ""
        return str(self.channel)
