from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from releases.redaction import redact_credentials

BRANCH_NAME_RE = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)[A-Za-z0-9._/\-]+(?<!\.lock)(?<![/.])$")


def validate_branch_name(value: str) -> None:
    if not BRANCH_NAME_RE.match(value):
        raise ValidationError(f"{value!r} is not a valid branch name")


ENV_NAME_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def validate_env_name(value: str) -> None:
    if value and not ENV_NAME_RE.match(value):
        # The value is not echoed: it may be the token itself, given by mistake.
        raise ValidationError(
            "Give the name of the environment variable that holds the token (A-Z, 0-9, _), "
            "never the token itself."
        )


class Forge(models.TextChoices):
    DIRECT = "direct", "direct (plain git host)"
    GITHUB = "github", "GitHub"


def validate_sandbox_mounts(value: str) -> None:
    """One absolute path a line, without `..` (the sandbox mounts each read-only)."""
    for line in value.splitlines():
        path = line.strip()
        if path and (not path.startswith("/") or ".." in path.split("/")):
            raise ValidationError(f"{path!r}: give an absolute path without ..")


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
    # Where the repository is hosted, for what ewsdash publishes there (releases/forge.py):
    # "direct" talks git only; "github" also posts the ewsdash/gates commit status.
    forge = models.CharField(max_length=20, choices=Forge.choices, default=Forge.DIRECT)
    forge_project = models.CharField(
        max_length=200, blank=True, help_text='The project on the forge, "owner/repo"'
    )
    # The token is never stored: this names the environment variable that holds it.
    forge_token_env = models.CharField(
        max_length=100,
        blank=True,
        default="EWSDASH_GITHUB_TOKEN",
        validators=[validate_env_name],
        help_text="The environment variable holding the forge's API token",
    )
    production_protected = models.BooleanField(
        default=False,
        help_text="Production is a protected branch on the forge: rollbacks go through a pull "
        "request (github mode also asks GitHub)",
    )
    forge_reviews_approve = models.BooleanField(
        default=False,
        help_text="Approving pull-request reviews on the frozen commit, by people whose GitHub "
        "account is linked to their ewsdash account, count as approvals (same rules)",
    )
    version_file = models.CharField(
        max_length=500,
        default="pyproject.toml",
        blank=True,
        help_text="A release's version must equal this file's (empty: not checked)",
    )
    require_signed_commits = models.BooleanField(
        default=False,
        help_text="Promote only candidates whose commits carry a signature from an allowed signer",
    )
    require_signed_tags = models.BooleanField(
        default=False,
        help_text="Check that release tags ewsdash did not make (pushed outside, imported) "
        "carry a signature from an allowed signer; each release shows the result",
    )
    allowed_signers = models.TextField(
        blank=True,
        help_text="SSH allowed signers (ssh-keygen's format), one per line: "
        'email namespaces="git" ssh-ed25519 AAAA…',
    )
    gpg_public_keys = models.TextField(
        blank=True,
        help_text="GPG public keys whose signatures count (ASCII-armored, as `gpg --armor "
        "--export` prints them; any number)",
    )
    partial_clone = models.BooleanField(
        default=False,
        help_text="Cache clones without file contents (--filter=blob:none): each file is "
        "fetched from the origin when first needed. For large histories; takes effect when "
        "a host (re)builds its clone",
    )
    # The sandbox of its checks (monitoring.validation.sandbox), set by an admin.
    sandbox_mounts = models.TextField(
        blank=True,
        validators=[validate_sandbox_mounts],
        help_text="Folders its checks may read (read-only), one absolute path a line: the "
        "runtimes it uses (a conda env, a virtualenv)",
    )
    sandbox_network = models.BooleanField(
        default=False, help_text="Whether its checks may use the network (off: no network)"
    )
    sign_tags = models.BooleanField(
        default=False,
        help_text="Sign release tags with ewsdash's attestation key (an SSH signature, "
        "checked by `git verify-tag` with gpg.format=ssh)",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_sync_attempt_at = models.DateTimeField(null=True, blank=True)
    last_sync_error = models.TextField(blank=True)
    # A digest of the origin's ref listing at the last successful sync: an
    # unchanged origin re-syncs without fetching.
    refs_digest = models.CharField(max_length=64, blank=True)
    # Branches the last sync left out, with the reason: [{"ref": ..., "reason": ...}].
    refused_refs = models.JSONField(default=list, blank=True)
    # A repository is never deleted (its history and audit trail stay): it is archived,
    # through `releases.services.repository_archive`, and then no longer synced or changed.
    archived_at = models.DateTimeField(null=True, blank=True)
    archive_reason = models.TextField(blank=True)

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
            ("reconcile_operation", "Can reconcile a git operation with the origin"),
            ("acknowledge_incident", "Can acknowledge an incident"),
            ("start_drift_job", "Can start a drift job"),
            ("annotate_chart", "Can annotate a chart"),
            ("record_outcomes", "Can record observed outcomes"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def origin_display(self) -> str:
        """The origin as shown and audited: a password or token in it replaced by ***."""
        return redact_credentials(self.origin)

    def sandbox_mount_paths(self) -> list[str]:
        return [line.strip() for line in self.sandbox_mounts.splitlines() if line.strip()]

    def clean(self) -> None:
        if self.production_branch == self.development_branch:
            raise ValidationError(
                {"development_branch": "The development branch must differ from production."}
            )
        if self.forge == Forge.GITHUB and self.forge_project.count("/") != 1:
            raise ValidationError({"forge_project": 'A GitHub project is "owner/repo".'})
        if self.tag_style not in ("", "v"):
            raise ValidationError({"tag_style": 'Tag style is "v" or empty.'})


class BranchKind(models.TextChoices):
    """Production, development, "other", and the kinds settings.EWSDASH_BRANCH_PREFIXES
    assigns by name prefix."""

    PRODUCTION = "production", "production"
    DEVELOPMENT = "development", "development"
    FEATURE = "feature", "feature"
    HOTFIX = "hotfix", "hotfix"
    FIX = "fix", "fix"
    RELEASE = "release", "release"
    DOCS = "docs", "docs"
    REFACTOR = "refactor", "refactor"
    EXPERIMENT = "experiment", "experiment"
    OTHER = "other", "other"


class Branch(models.Model):
    """A branch at the origin as of the last sync. Gone branches are kept, marked gone."""

    repository = models.ForeignKey(Repository, on_delete=models.PROTECT, related_name="branches")
    # Ref names, versions and people's names come from the origin: text, never a length
    # limit a hostile branch name could break a sync with.
    name = models.TextField()
    kind = models.CharField(max_length=20, choices=BranchKind.choices)
    head = models.CharField(max_length=64)
    author_name = models.TextField(blank=True)
    author_email = models.TextField(blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    subject = models.TextField(blank=True)
    ahead_of_production = models.PositiveIntegerField(default=0)
    behind_production = models.PositiveIntegerField(default=0)
    ahead_of_development = models.PositiveIntegerField(default=0)
    behind_development = models.PositiveIntegerField(default=0)
    # Development only: the commits it lacks of production are release merge commits that
    # change no content (git.lacks_only_release_merges), so it is shown in sync.
    behind_only_by_release_merges = models.BooleanField(default=False)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    gone_at = models.DateTimeField(null=True, blank=True)
    # How a branch that is no ancestor of production or development is still in one of
    # them (squash merge: "tree", cherry-picks or rebase: "patch-id"), and which.
    merged_by = models.CharField(max_length=10, blank=True)
    merged_into = models.CharField(max_length=255, blank=True)
    # "<production head>:<development head>" this branch's head was last checked against.
    merge_checked = models.CharField(max_length=129, blank=True)

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
        return bool(self.how_merged)

    @property
    def how_merged(self) -> str:
        """ "ancestry", "tree" (squash merge), "patch-id" (cherry-picks), or "" (not merged)."""
        if self.kind in (BranchKind.PRODUCTION, BranchKind.DEVELOPMENT):
            return ""
        if self.ahead_of_development == 0 or self.ahead_of_production == 0:
            return "ancestry"
        return self.merged_by

    @property
    def merged_target(self) -> str:
        """The branch that holds this one's changes ("" when not merged)."""
        how = self.how_merged
        if how == "ancestry":
            return (
                self.repository.development_branch
                if self.ahead_of_development == 0
                else self.repository.production_branch
            )
        return self.merged_into if how else ""


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
    # HMAC-SHA256 of "seq:hash" under EWSDASH_AUDIT_KEY, a key the database never holds:
    # someone who can write the table can re-hash the chain but not re-key it. Empty on
    # events written before keys existed.
    mac = models.CharField(max_length=64, blank=True)

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


class ReleaseKind(models.TextChoices):
    PROMOTION = "promotion", "promotion"
    HOTFIX = "hotfix", "hotfix"
    ROLLBACK = "rollback", "rollback"
    IMPORTED = "imported", "imported"


class TagState(models.TextChoices):
    OK = "ok", "as recorded"
    MOVED = "moved", "moved at the origin"
    DELETED = "deleted", "deleted at the origin"


class Release(models.Model):
    """One semantic version of a repository, as its tag(s) named it when first seen.

    `commit` is what the version was released as and is never rewritten: a tag moved
    or deleted at the origin sets `tag_state` (and `origin_commit`) instead.
    """

    repository = models.ForeignKey(Repository, on_delete=models.PROTECT, related_name="releases")
    version = models.TextField(help_text="Semantic version, without a v")
    tag = models.TextField(help_text="The primary tag")
    tags = models.JSONField(default=list, help_text="Every tag naming this version")
    commit = models.CharField(max_length=64)
    kind = models.CharField(max_length=20, choices=ReleaseKind.choices)
    tagger_name = models.TextField(blank=True)
    tagger_email = models.TextField(blank=True)
    tagged_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The ewsdash user who released it (empty when imported)",
    )
    changelog = models.JSONField(default=list, blank=True)
    on_production = models.BooleanField(default=False)
    tag_state = models.CharField(max_length=10, choices=TagState.choices, default=TagState.OK)
    # Where the repository requires signed tags: when the tag's signature was checked
    # (`git verify-tag` against the allowed signers) and, if it failed, why.
    signature_checked_at = models.DateTimeField(null=True, blank=True)
    signature_problem = models.TextField(blank=True)
    origin_commit = models.CharField(
        max_length=64, blank=True, help_text="Where the tag points now, when it moved"
    )
    tag_changed_at = models.DateTimeField(null=True, blank=True)
    rolls_back = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rolled_back_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A rollback release restores this earlier release's tree.
    restores = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_seen_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["repository", "-tagged_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "version"], name="release_unique_version"
            ),
        ]

    def __str__(self) -> str:
        return self.tag or self.version

    @property
    def other_tags(self) -> list[str]:
        return [name for name in self.tags if name != self.tag]


class AttestationKey(models.Model):
    """A public key ewsdash has signed attestations with, kept after rotation so that
    older attestations stay verifiable (their envelopes name it by `keyid`)."""

    keyid = models.CharField(max_length=100, unique=True, help_text="SHA256:… fingerprint")
    public_key = models.TextField(help_text="OpenSSH public key line")
    first_used_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.keyid


class ReleaseAttestation(models.Model):
    """The signed in-toto bundle of one release (releases.attestations): stored once in
    the artifact store by its sha256, and pushed to the origin as `git_ref`."""

    release = models.OneToOneField(Release, on_delete=models.PROTECT, related_name="attestation")
    operation = models.ForeignKey(
        "Operation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bundle = models.ForeignKey("monitoring.Artifact", on_delete=models.PROTECT, related_name="+")
    keyid = models.CharField(max_length=100)
    git_ref = models.TextField()
    git_commit = models.CharField(max_length=64, help_text="The commit git_ref points at")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"attestation of {self.release}"


class ReleaseLine(models.Model):
    """What the last sync derived from history, kept so that pages never run git.

    One row per repository, rewritten by every sync that fetched.
    """

    repository = models.OneToOneField(
        Repository, on_delete=models.PROTECT, related_name="release_line"
    )
    production_head = models.CharField(max_length=64, blank=True)
    latest_release = models.ForeignKey(
        Release,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The highest release reachable from production",
    )
    commits_past_latest = models.PositiveIntegerField(default=0)
    next_version = models.TextField(blank=True)
    next_bump = models.CharField(max_length=10, blank=True)
    next_changelog = models.JSONField(default=list, blank=True)
    not_semver_tags = models.JSONField(
        default=list, blank=True, help_text='[{"tag": ..., "reason": ...}]'
    )
    computed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"release line of {self.repository_id}"

    @property
    def production_is_released(self) -> bool:
        return self.latest_release_id is not None and self.commits_past_latest == 0


class BackportResolution(models.TextChoices):
    ANCESTRY = "ancestry", "development contains the commit"
    PATCH_ID = "patch-id", "an equal patch is on development"
    CHERRY_PICK = "cherry-pick", "a cherry-pick trailer on development names it"
    WONT = "wont", "a release manager decided development does not take it"


class BackportItem(models.Model):
    """A production commit development lacks: open until development contains it."""

    STALE_AFTER_DAYS = 7

    repository = models.ForeignKey(
        Repository, on_delete=models.PROTECT, related_name="backport_items"
    )
    commit = models.CharField(max_length=64)
    subject = models.TextField(blank=True)
    author_name = models.TextField(blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    release = models.ForeignKey(
        Release,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="backport_items",
        help_text="The first release that shipped it (empty: not released yet)",
    )
    first_seen_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_how = models.CharField(max_length=20, choices=BackportResolution.choices, blank=True)
    resolved_by_commit = models.CharField(max_length=64, blank=True)
    # "won't back-port": who decided and why (a main-only pin, say).
    reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["repository", "committed_at"]
        constraints = [
            models.UniqueConstraint(fields=["repository", "commit"], name="backport_unique_commit"),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True, resolved_how="")
                | Q(resolved_at__isnull=False) & ~Q(resolved_how=""),
                name="backport_resolution_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.commit[:8]} {self.subject[:60]}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def pending_since(self):  # type: ignore[no-untyped-def]
        """Since when production has had it without development: its release, else its commit."""
        if self.release is not None and self.release.tagged_at is not None:
            return self.release.tagged_at
        return self.committed_at


# -- promotion workflow ---------------------------------------------------------------------


class CandidateStatus(models.TextChoices):
    """A candidate's life; the allowed moves between these are in `releases.workflow`."""

    VALIDATING = "validating", "validating"
    VALIDATED = "validated", "validated"
    VALIDATION_FAILED = "validation_failed", "validation failed"
    APPROVED = "approved", "approved"
    PROMOTING = "promoting", "promoting"
    RELEASED = "released", "released"
    PROMOTION_FAILED = "promotion_failed", "promotion failed"
    REJECTED = "rejected", "rejected"
    SUPERSEDED = "superseded", "superseded"
    CANCELLED = "cancelled", "cancelled"


# Statuses that end a candidate early, and every status that ends it.
CANDIDATE_ENDINGS = frozenset(
    {CandidateStatus.REJECTED, CandidateStatus.SUPERSEDED, CandidateStatus.CANCELLED}
)
CANDIDATE_TERMINAL = frozenset({CandidateStatus.RELEASED, *CANDIDATE_ENDINGS})
# Statuses in which a candidate still competes for promotion.
CANDIDATE_OPEN = frozenset(set(CandidateStatus) - CANDIDATE_TERMINAL)


class CandidateKind(models.TextChoices):
    PROMOTION = "promotion", "promotion"
    HOTFIX = "hotfix", "hotfix"


class PromotionCandidate(models.Model):
    """A frozen commit of development (or a hotfix branch) on its way to production.

    New commits on the source branch never change it: it is its frozen commit.
    Its status changes only through `releases.workflow.candidate_transition`.
    """

    repository = models.ForeignKey(Repository, on_delete=models.PROTECT, related_name="candidates")
    kind = models.CharField(max_length=20, choices=CandidateKind.choices)
    source_branch = models.TextField()
    commit = models.CharField(max_length=64, help_text="The frozen commit")
    production_head = models.CharField(max_length=64, help_text="Production's head at creation")
    # The production head for which `contains_production_head` was last computed;
    # the gate holds only while production has not moved since.
    checked_production_head = models.CharField(max_length=64)
    contains_production_head = models.BooleanField(default=False)
    branch_moved_by = models.PositiveIntegerField(
        default=0, help_text="Commits the source branch has past the frozen commit"
    )
    version = models.TextField()
    proposed_version = models.TextField()
    bump = models.CharField(max_length=10)
    base_version = models.TextField(blank=True)
    # The version the repository's version file declares at the frozen commit ("": none).
    version_in_file = models.TextField(blank=True)
    changelog = models.JSONField(default=list, blank=True)
    commit_people = models.JSONField(
        default=list, blank=True, help_text="Author and committer emails of its commits"
    )
    # Commits without a signature from an allowed signer, when the repository requires
    # them (None: not checked, because it did not when the candidate was made).
    unsigned_commits = models.JSONField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=CandidateStatus.choices, default=CandidateStatus.VALIDATING
    )
    status_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    validation_run = models.ForeignKey(
        "monitoring.ValidationRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    waiver_reason = models.TextField(blank=True)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    freeze_override_reason = models.TextField(blank=True)
    promotion_error = models.TextField(blank=True)
    # In github mode: the pull request into production ewsdash opened for it (0: none yet).
    forge_pull_request = models.PositiveIntegerField(default=0)
    release = models.OneToOneField(
        Release, null=True, blank=True, on_delete=models.PROTECT, related_name="candidate"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # The database itself refuses a second promotion in flight.
            models.UniqueConstraint(
                fields=["repository"],
                condition=Q(status="promoting"),
                name="one_promoting_candidate_per_repository",
            ),
            models.CheckConstraint(
                condition=Q(waived_by__isnull=True) | ~Q(waiver_reason=""),
                name="candidate_waiver_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.version} from {self.source_branch}"

    @property
    def is_open(self) -> bool:
        return self.status in CANDIDATE_OPEN


class Decision(models.TextChoices):
    APPROVE = "approve", "approved"
    REJECT = "reject", "rejected"


class Approval(models.Model):
    """One person's decision, bound to the candidate's commit and validation run."""

    candidate = models.ForeignKey(
        PromotionCandidate, on_delete=models.CASCADE, related_name="approvals"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    commit = models.CharField(max_length=64)
    validation_run_id = models.BigIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "user"],
                condition=Q(voided_at__isnull=True),
                name="one_live_decision_per_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.get_decision_display()} #{self.candidate_id}"


class FreezeWindow(models.Model):
    """A period in which promotions are blocked (an admin may break the glass)."""

    repository = models.ForeignKey(Repository, on_delete=models.PROTECT, related_name="freezes")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="freeze_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"freeze {self.starts_at:%Y-%m-%d %H:%M} – {self.ends_at:%Y-%m-%d %H:%M}"


def normalise_email(email: str) -> str:
    """How the author rule compares e-mails: case-insensitively, without a `+tag`
    (`Ana+ci@Example.org` is `ana@example.org`)."""
    local, at, domain = email.strip().lower().rpartition("@")
    if not at:
        return domain
    return f"{local.split('+', 1)[0]}@{domain}"


class GitIdentity(models.Model):
    """An e-mail a person commits as. It counts (for approving, and for the rule that
    authors may not approve their own changes) once an admin has confirmed it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="git_identities"
    )
    email = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "email"]
        verbose_name_plural = "git identities"
        constraints = [
            # One address is one person's, whatever its case.
            models.UniqueConstraint(Lower("email"), name="git_identity_unique_email"),
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True) | Q(confirmed_by__isnull=False),
                name="git_identity_confirmed_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({'confirmed' if self.confirmed_at else 'unconfirmed'})"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class GitHubAccount(models.Model):
    """A person's GitHub login, linked to their account by an admin: their pull-request
    reviews may then count as approvals (releases.forge_reviews)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="github_account"
    )
    github_login = models.CharField(
        max_length=39,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$",
                "A GitHub login: letters, digits and single hyphens, at most 39 characters.",
            )
        ],
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # GitHub logins are case-insensitive: one login is one person's.
            models.UniqueConstraint(Lower("github_login"), name="github_login_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} is @{self.github_login} on GitHub"


# -- git writes as operations, and what moved without ewsdash ---------------------------------


class PatchId(models.Model):
    """A cache: `git patch-id --stable` of one commit of a repository ("" when the commit
    has no patch). Commits never change, so an entry is never stale; the back-port
    ledger's equal-patch check (releases.lineage) computes each commit's once."""

    repository = models.ForeignKey(Repository, on_delete=models.PROTECT, related_name="+")
    commit = models.CharField(max_length=64)
    patch_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "commit"], name="one_patch_id_per_commit")
        ]

    def __str__(self) -> str:
        return f"{self.commit[:10]}: {self.patch_id[:10] or 'no patch'}"


class OperationKind(models.TextChoices):
    PROMOTE = "promote", "promotion"
    ROLLBACK = "rollback", "rollback"
    HOTFIX_CUT = "hotfix_cut", "hotfix branch"
    BACK_MERGE = "back_merge", "merge production into development"
    # Pushes nothing: the worker syncs, freezes the branch head and records the candidate.
    CANDIDATE_CREATE = "candidate_create", "candidate creation"


class OperationStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"


OPERATION_ACTIVE = (OperationStatus.QUEUED, OperationStatus.RUNNING)


class Operation(models.Model):
    """One git write at the origin, recorded before anything is pushed.

    A web request creates it (queued) and a worker carries it out (releases.operation_runner):
    it claims the row, fetches, writes the git objects, records in `planned` the refs it is
    about to push and the object ids they will point at, pushes atomically, then records the
    outcome. When the worker dies, reconciling reads the origin: every planned ref there →
    succeeded, none → failed. One operation at a time per repository.
    """

    repository = models.ForeignKey(Repository, on_delete=models.PROTECT, related_name="operations")
    kind = models.CharField(max_length=20, choices=OperationKind.choices)
    status = models.CharField(
        max_length=20, choices=OperationStatus.choices, default=OperationStatus.QUEUED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    candidate = models.ForeignKey(
        PromotionCandidate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="operations",
    )
    params = models.JSONField(default=dict, blank=True)
    planned = models.JSONField(
        default=dict, blank=True, help_text="ref -> object id, recorded before the push"
    )
    result = models.JSONField(default=dict, blank=True)
    progress = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    claim_token = models.CharField(max_length=64, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    claims = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    reconciled = models.BooleanField(
        default=False, help_text="Settled from what the origin showed, after its worker died"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["repository"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_operation_per_repository",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in OPERATION_ACTIVE


class IncidentKind(models.TextChoices):
    PRODUCTION_MOVED_OUTSIDE = "production_moved_outside", "production moved outside ewsdash"
    RELEASE_TAG_MOVED = "release_tag_moved", "a release tag moved at the origin"
    RELEASE_TAG_DELETED = "release_tag_deleted", "a release tag was deleted at the origin"
    # Realized skill (issue 18): the live release broke a declared floor, or scores
    # significantly worse than the release it replaced (monitoring.skill_alerts).
    SKILL_DEGRADED = "skill_degraded", "the live release's realized skill degraded"


class IncidentResolution(models.TextChoices):
    ADOPTED = "adopted", "adopted as it is"
    ROLLED_BACK = "rolled_back", "rolled back"


class Incident(models.Model):
    """Something at the origin that ewsdash did not do; promotions wait for an admin."""

    repository = models.ForeignKey(Repository, on_delete=models.PROTECT, related_name="incidents")
    kind = models.CharField(max_length=40, choices=IncidentKind.choices)
    ref = models.TextField()
    commit = models.CharField(max_length=64, blank=True)
    previous_commit = models.CharField(max_length=64, blank=True)
    detail = models.TextField(blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=20, choices=IncidentResolution.choices, blank=True)
    reason = models.TextField(blank=True)
    operation = models.ForeignKey(
        Operation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | (~Q(reason="") & ~Q(resolution="")),
                name="incident_acknowledged_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.commit[:10]}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None
