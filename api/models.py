"""Personal API tokens and the webhook deliveries already taken (replay protection)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class TokenScope(models.TextChoices):
    READ = "read", "read"
    WRITE = "write", "read and write"
    # Only reports external checks' results (issue 17): what a CI job or cluster holds.
    REPORT = "report", "report check results only"


class ApiToken(models.Model):
    """A personal token: `ews_<prefix>_<secret>`. Only its SHA-256 digest is stored.

    The token acts as its user, with the user's role; a `read` token may only read; a
    `report` token may only report external checks' results (and nothing else).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, help_text="Public part, for lookup")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the whole token")
    scope = models.CharField(max_length=10, choices=TokenScope.choices, default=TokenScope.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=Q(revoked_at__isnull=True),
                name="api_token_unique_live_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None

    @property
    def may_write(self) -> bool:
        return self.scope == TokenScope.WRITE

    @property
    def may_report(self) -> bool:
        return self.scope == TokenScope.REPORT


class WebhookDelivery(models.Model):
    """One accepted webhook delivery; a second one with the same id is a replay."""

    source = models.CharField(max_length=20)  # "github" or "git"
    delivery_id = models.CharField(max_length=100)
    repository_name = models.CharField(max_length=100)
    event = models.CharField(max_length=50)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "delivery_id"], name="webhook_delivery_unique_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.event} {self.delivery_id}"
