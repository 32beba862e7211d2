from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

BRANCH_NAME_RE = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/\-]+(?<!\.lock)(?<![/.])$")


def validate_branch_name(value: str) -> None:
    if not BRANCH_NAME_RE.match(value):
        raise ValidationError(f"{value!r} is not a valid branch name")


class Repository(models.Model):
    """A governed git repository. Its origin is the source of truth."""

    name = models.SlugField(max_length=100, unique=True)
    origin = models.CharField(max_length=1000)
    production_branch = models.CharField(
        max_length=200, default="production", validators=[validate_branch_name]
    )
    development_branch = models.CharField(
        max_length=200, default="development", validators=[validate_branch_name]
    )
    tag_style = models.CharField(
        max_length=1, blank=True, default="v", help_text='"v" for v1.2.3 tags, empty for 1.2.3'
    )
    required_approvals = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1)]
    )
    authors_may_approve = models.BooleanField(
        default=False, help_text="Whether authors of a candidate's commits may approve it"
    )
    manifest_path = models.CharField(max_length=500, default="ewsdash.toml")
    created_at = models.DateTimeField(auto_now_add=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_sync_attempt_at = models.DateTimeField(null=True, blank=True)
    last_sync_error = models.TextField(blank=True)
    # A digest of the origin's ref listing at the last successful sync: an
    # unchanged origin re-syncs without fetching.
    refs_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "repositories"
        constraints = [
            models.CheckConstraint(
                condition=Q(required_approvals__gte=1), name="repository_required_approvals_gte_1"
            ),
            models.CheckConstraint(
                condition=~Q(production_branch=models.F("development_branch")),
                name="repository_branches_differ",
            ),
        ]
        permissions = [
            ("sync_repository", "Can sync a repository"),
            ("create_candidate", "Can create a promotion candidate"),
            ("rerun_validation", "Can re-run staging validation"),
            ("cut_hotfix", "Can cut a hotfix branch"),
            ("merge_production", "Can merge production into development"),
            ("approve_candidate", "Can approve or reject a candidate"),
            ("promote_candidate", "Can promote an approved candidate"),
            ("rollback_release", "Can roll production back"),
            ("waive_check", "Can waive a validation check"),
            ("manage_freeze", "Can set freeze windows"),
            ("start_drift_job", "Can start a drift job"),
            ("annotate_chart", "Can annotate a chart"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.production_branch == self.development_branch:
            raise ValidationError(
                {"development_branch": "The development branch must differ from production."}
            )
        if self.tag_style not in ("", "v"):
            raise ValidationError({"tag_style": 'Tag style is "v" or empty.'})


class BranchKind(models.TextChoices):
    PRODUCTION = "production", "production"
    DEVELOPMENT = "development", "development"
    FEATURE = "feature", "feature"
    HOTFIX = "hotfix", "hotfix"
    OTHER = "other", "other"


class Branch(models.Model):
    """A branch at the origin as of the last sync. Gone branches are kept, marked gone."""

    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="branches")
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, choices=BranchKind.choices)
    head = models.CharField(max_length=64)
    author_name = models.CharField(max_length=255, blank=True)
    author_email = models.CharField(max_length=255, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    subject = models.TextField(blank=True)
    ahead_of_production = models.PositiveIntegerField(default=0)
    behind_production = models.PositiveIntegerField(default=0)
    ahead_of_development = models.PositiveIntegerField(default=0)
    behind_development = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    gone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["repository", "name"]
        constraints = [
            models.UniqueConstraint(fields=["repository", "name"], name="branch_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_gone(self) -> bool:
        return self.gone_at is not None

    @property
    def is_merged(self) -> bool:
        """Fully contained in development (or production): nothing left to merge."""
        if self.kind in (BranchKind.PRODUCTION, BranchKind.DEVELOPMENT):
            return False
        return self.ahead_of_development == 0 or self.ahead_of_production == 0


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("Audit events are append-only")

    def delete(self):  # type: ignore[no-untyped-def]
        raise PermissionError("Audit events are append-only")


class AuditEvent(models.Model):
    """One append-only, hash-chained record of a state change.

    `hash` is SHA-256 over the canonical JSON of the other fields, including the
    previous event's hash; see releases.audit.
    """

    seq = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    repository_name = models.CharField(max_length=100, blank=True, db_index=True)
    payload = models.JSONField(default=dict)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_name}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise PermissionError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("Audit events are append-only")
