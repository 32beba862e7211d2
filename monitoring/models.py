"""Staging validation: runs, their checks, the artifacts and metrics they produced.

State machines (every transition is made by one function in monitoring.services):

ValidationRun  queued -> running -> passed | failed | error | timed_out | cancelled
               (a run whose manifest is malformed is created `failed`; one whose commit
               declares no manifest is created `error`; neither has checks)

CheckResult    waiting -> queued          its dependencies (and the production reference's
                                          check of the same name) have finished
               waiting -> skipped         a dependency did not pass, or the run was cancelled
               queued  -> running         a worker claimed it (conditional UPDATE)
               running -> passed | failed | error | timed_out | cancelled   (written once)
               running -> queued          the reaper saw its heartbeat stop (worker died)
               running -> error           ... for the MAX_CLAIMS-th time
               queued  -> cancelled       the run was cancelled before a worker took it
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class RunPurpose(models.TextChoices):
    CANDIDATE = "candidate", "candidate"
    REFERENCE = "reference", "production reference"
    MANUAL = "manual", "manual"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    PASSED = "passed", "passed"
    FAILED = "failed", "failed"
    ERROR = "error", "error"
    CANCELLED = "cancelled", "cancelled"
    TIMED_OUT = "timed_out", "timed out"


RUN_FINAL = frozenset(
    {RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR, RunStatus.CANCELLED, RunStatus.TIMED_OUT}
)


class CheckStatus(models.TextChoices):
    WAITING = "waiting", "waiting"
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    PASSED = "passed", "passed"
    FAILED = "failed", "failed"
    ERROR = "error", "error"
    CANCELLED = "cancelled", "cancelled"
    TIMED_OUT = "timed_out", "timed out"
    SKIPPED = "skipped", "skipped"
    # It ran but could test nothing (no rows, no shared column, a type mismatch): fails a
    # required check, like `failed`, and says why.
    INCONCLUSIVE = "inconclusive", "inconclusive"


class ManifestSource(models.TextChoices):
    """Whose manifest judged a run (issue 11): production's (the trusted one) or the
    candidate's own (production has none, or an admin approved the change)."""

    PRODUCTION = "production", "production"
    CANDIDATE = "candidate", "candidate"


CHECK_FINAL = frozenset(
    {
        CheckStatus.PASSED,
        CheckStatus.FAILED,
        CheckStatus.INCONCLUSIVE,
        CheckStatus.ERROR,
        CheckStatus.CANCELLED,
        CheckStatus.TIMED_OUT,
        CheckStatus.SKIPPED,
    }
)


class ValidationRun(models.Model):
    """One validation of one commit. A re-run is a new row with `attempt` + 1.

    The current run of a commit is its latest attempt; earlier attempts stay as evidence.
    """

    repository = models.ForeignKey(
        "releases.Repository", on_delete=models.PROTECT, related_name="validation_runs"
    )
    commit = models.CharField(max_length=64)
    attempt = models.PositiveIntegerField(default=1)
    purpose = models.CharField(max_length=20, choices=RunPurpose.choices)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    summary = models.TextField(blank=True)
    # The manifest as read at `commit` (Manifest.to_dict()), so later commits that
    # change it never change what this run checks.
    manifest = models.JSONField(null=True, blank=True)
    manifest_path = models.CharField(max_length=500)
    manifest_error = models.TextField(blank=True)
    # A commit not on production is judged by production's manifest (monitoring.runs);
    # `manifest_changed` says its own differs, `manifest_diff` shows how. (Runs made
    # before that rule were judged by their own manifest: the default.)
    manifest_source = models.CharField(
        max_length=20, choices=ManifestSource.choices, default=ManifestSource.CANDIDATE
    )
    manifest_changed = models.BooleanField(default=False)
    manifest_diff = models.TextField(blank=True)
    # The run of production's head that performance and drift checks compare with.
    reference = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="dependents"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "commit", "attempt"], name="validationrun_unique_attempt"
            ),
            models.CheckConstraint(condition=Q(attempt__gte=1), name="validationrun_attempt_gte_1"),
        ]
        indexes = [models.Index(fields=["repository", "commit"])]

    def __str__(self) -> str:
        return f"validation #{self.pk} of {self.commit[:10]}"

    @property
    def is_finished(self) -> bool:
        return self.status in RUN_FINAL

    @property
    def short_commit(self) -> str:
        return self.commit[:10]

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class CheckResult(models.Model):
    """One declared check of a run, written by the one worker whose claim token holds it."""

    run = models.ForeignKey(ValidationRun, on_delete=models.CASCADE, related_name="checks")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=63)
    kind = models.CharField(max_length=20)
    required = models.BooleanField(default=True)
    timeout_s = models.PositiveIntegerField()
    status = models.CharField(
        max_length=20, choices=CheckStatus.choices, default=CheckStatus.WAITING
    )
    # A fresh token per claim: writes of a worker that lost its claim (the reaper
    # re-queued the check) match no row and change nothing.
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    claims = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    progress = models.CharField(max_length=300, blank=True)
    # Head and tail of the output only (see monitoring.validation.process.BoundedLog).
    log = models.TextField(blank=True)
    log_bytes = models.PositiveBigIntegerField(default=0)
    log_bytes_omitted = models.PositiveBigIntegerField(default=0)
    summary = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    # An external check's deadline: no report by then makes it `timed_out`.
    deadline_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "name"], name="checkresult_unique_name"),
        ]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in CHECK_FINAL


class Artifact(models.Model):
    """A file's content, stored once under EWSDASH_ARTIFACTS_DIR/sha256/ab/cdef...."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sha256[:12]

    @property
    def relative_path(self) -> str:
        return f"sha256/{self.sha256[:2]}/{self.sha256[2:]}"


class CheckArtifact(models.Model):
    """A file a check produced or read, under the name it had in the check's folder."""

    check_result = models.ForeignKey(
        CheckResult, on_delete=models.CASCADE, related_name="artifacts"
    )
    artifact = models.ForeignKey(Artifact, on_delete=models.PROTECT, related_name="uses")
    name = models.TextField()
    kind = models.CharField(max_length=20)  # predictions, metrics, file
    rows = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["check_result", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["check_result", "name"], name="checkartifact_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ModelMetric(models.Model):
    """One score of one model, from a run's performance check (later also a release's)."""

    run = models.ForeignKey(ValidationRun, on_delete=models.CASCADE, related_name="metrics")
    check_result = models.ForeignKey(CheckResult, on_delete=models.CASCADE, related_name="metrics")
    model = models.TextField()
    target = models.TextField()
    metric = models.TextField()
    step = models.IntegerField(null=True, blank=True)  # None: over all steps
    value = models.FloatField()
    # lower, higher, none (not compared), target=<value> (best there) or unknown ("")
    direction = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["model", "target", "metric", "step"]
        constraints = [
            models.UniqueConstraint(
                fields=["check_result", "model", "target", "metric", "step"],
                condition=Q(step__isnull=False),
                name="modelmetric_unique_key",
            ),
            # NULLs are distinct in a unique index: "all steps" needs its own.
            models.UniqueConstraint(
                fields=["check_result", "model", "target", "metric"],
                condition=Q(step__isnull=True),
                name="modelmetric_unique_key_all_steps",
            ),
        ]
        # Model health reads one series (model, target, step) across every release's
        # run; without it the page scans all metrics of all runs (36 ms -> 6 ms at 200k).
        indexes = [
            models.Index(fields=["model", "target", "step", "run"], name="modelmetric_series"),
        ]

    def __str__(self) -> str:
        return f"{self.model}/{self.target}/{self.metric}@{self.step}"


# --- Drift jobs -------------------------------------------------------------------
#
# DriftJob  queued -> running -> done | error      (a job of source "validation" is
#                                                   written done or error at once)
#           queued | running -> cancelled
#
# A job is split into parts (one per model and column chunk); each part writes its
# DriftResult rows and the part that finishes last merges the verdicts job-wide.


class DriftJobStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    DONE = "done", "done"
    ERROR = "error", "error"
    CANCELLED = "cancelled", "cancelled"


DRIFT_JOB_FINAL = frozenset({DriftJobStatus.DONE, DriftJobStatus.ERROR, DriftJobStatus.CANCELLED})


class DriftJob(models.Model):
    """One comparison of the prediction artifacts of two validation runs."""

    repository = models.ForeignKey(
        "releases.Repository", on_delete=models.PROTECT, related_name="drift_jobs"
    )
    # PROTECT: a job's results mean nothing once the runs they compare are gone.
    reference_run = models.ForeignKey(ValidationRun, on_delete=models.PROTECT, related_name="+")
    current_run = models.ForeignKey(ValidationRun, on_delete=models.PROTECT, related_name="+")
    reference_label = models.TextField()
    current_label = models.TextField()
    check_name = models.CharField(max_length=63, default="inference")
    columns = models.JSONField(default=list, blank=True)  # empty: every pred_* column
    status = models.CharField(
        max_length=20, choices=DriftJobStatus.choices, default=DriftJobStatus.QUEUED
    )
    parts_total = models.PositiveIntegerField(default=0)
    parts_done = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    source = models.CharField(max_length=20, default="job")  # "job" or "validation"
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Last: from here on the class body's `models` is this field, not django's module.
    models = models.JSONField(default=list, blank=True)  # empty: every model

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["repository", "-created_at"])]

    def __str__(self) -> str:
        return f"drift job #{self.pk}: {self.reference_label} vs {self.current_label}"

    @property
    def is_finished(self) -> bool:
        return self.status in DRIFT_JOB_FINAL


class DriftResult(models.Model):
    """The engine's result for one column of one model's predictions file."""

    job = models.ForeignKey(DriftJob, on_delete=models.CASCADE, related_name="results")
    model = models.TextField()  # "" when the file name names no model
    column = models.TextField()
    kind = models.CharField(max_length=20)  # numeric | categorical | draws
    status = models.CharField(max_length=40)  # the engine's status: ok, empty_reference, ...
    n_reference = models.BigIntegerField(default=0)
    n_current = models.BigIntegerField(default=0)
    dropped = models.JSONField(default=dict, blank=True)
    tests = models.JSONField(default=dict, blank=True)
    # Flattened from `tests` so pages can sort and colour without parsing JSON; None
    # when the engine did not compute the value (never NaN).
    ks_statistic = models.FloatField(null=True, blank=True)
    ks_p_value = models.FloatField(null=True, blank=True)
    q_value = models.FloatField(null=True, blank=True)
    wasserstein_normed = models.FloatField(null=True, blank=True)
    psi = models.FloatField(null=True, blank=True)
    jensen_shannon = models.FloatField(null=True, blank=True)
    effect = models.FloatField(null=True, blank=True)  # the effect size the verdict used
    drifted = models.BooleanField(default=False)
    reason = models.CharField(max_length=200, blank=True)
    conventions = models.JSONField(default=dict, blank=True)
    distribution = models.JSONField(default=dict, blank=True)  # histogram + quantiles
    cells = models.JSONField(default=dict, blank=True)  # draws only: bounded roll-ups

    class Meta:
        ordering = ["job", "model", "column"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "model", "column"], name="driftresult_unique_column"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model}/{self.column}"


# --- Deployment status per release (issue 7) ------------------------------------------------


class ConfigSnapshot(models.Model):
    """The models and ensembles one commit of a governed repository declares, read once.

    Keyed by commit, not by release: a release, production's head and development's head
    that point at one commit share one read. Written with its items in one transaction by
    monitoring.deployments (pages never run git), so a snapshot that exists is complete.
    """

    repository = models.ForeignKey(
        "releases.Repository", on_delete=models.PROTECT, related_name="config_snapshots"
    )
    commit = models.CharField(max_length=64)
    read_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repository", "commit"], name="configsnapshot_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.repository_id}@{self.commit[:10]}"


class ConfigKind(models.TextChoices):
    MODEL = "model", "model"
    ENSEMBLE = "ensemble", "ensemble"


class ModelConfig(models.Model):
    """One model or ensemble at a snapshot's commit, with its declared `deployment_status`
    and `maturity` (None when the config declares none) and why they could not be read."""

    snapshot = models.ForeignKey(ConfigSnapshot, on_delete=models.CASCADE, related_name="items")
    # Text from a governed repository: text columns, whatever its length (issue 12).
    name = models.TextField()
    kind = models.CharField(max_length=10, choices=ConfigKind.choices)
    status = models.TextField(null=True, blank=True)
    maturity = models.TextField(null=True, blank=True)
    path = models.TextField()
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["snapshot", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "kind", "name"], name="modelconfig_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}: {self.status or '?'}"


class ManifestApproval(models.Model):
    """An admin's explicit approval of a commit's changed manifest: runs of that commit are
    judged by its own manifest from then on (audited; voids the candidate's approvals)."""

    repository = models.ForeignKey(
        "releases.Repository", on_delete=models.PROTECT, related_name="manifest_approvals"
    )
    commit = models.CharField(max_length=64)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "commit"], name="manifestapproval_unique_commit"
            )
        ]

    def __str__(self) -> str:
        return f"manifest of {self.commit[:10]} approved"


class RepositorySecret(models.Model):
    """A credential a repository's checks may be handed (issue 17), set by an admin.

    Only the ciphertext is stored (Fernet, with a key that is not in the database:
    monitoring.check_secrets); the value is never shown again, only who set it and when.
    """

    repository = models.ForeignKey(
        "releases.Repository", on_delete=models.CASCADE, related_name="secrets"
    )
    name = models.CharField(max_length=64)
    ciphertext = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["repository", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "name"], name="repositorysecret_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return f"secret {self.name}"


# --- Outcomes and realized skill (issue 18) --------------------------------------------------


class OutcomeRevision(models.Model):
    """One delivery of observed outcomes (an API upload, a file, the demo's next month).

    Every value it set or changed carries it; a ledger row scored with an older revision of
    any of its outcomes is scored again (monitoring.skill_ledger)."""

    repository = models.ForeignKey(
        "releases.Repository", on_delete=models.PROTECT, related_name="outcome_revisions"
    )
    source = models.CharField(max_length=20)  # api, command, demo
    note = models.TextField(blank=True)
    rows = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"outcomes revision {self.pk}"


class Outcome(models.Model):
    """The observed value of one target for one unit and month, as last delivered."""

    repository = models.ForeignKey(
        "releases.Repository", on_delete=models.PROTECT, related_name="outcomes"
    )
    target = models.TextField()  # without the `pred_` prefix: lr_ged_sb
    unit = models.BigIntegerField()
    month_id = models.IntegerField()
    value = models.FloatField()
    revision = models.ForeignKey(OutcomeRevision, on_delete=models.PROTECT, related_name="values")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["repository", "target", "unit", "month_id"], name="outcome_unique_cell"
            ),
        ]
        indexes = [
            models.Index(fields=["repository", "target", "month_id"], name="outcome_month"),
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.unit}@{self.month_id} = {self.value}"


class SkillScore(models.Model):
    """Realized skill of one model of one production release, for one target and month:
    its forecast's scores over every unit with an outcome (monitoring.skill_ledger)."""

    repository = models.ForeignKey(
        "releases.Repository", on_delete=models.PROTECT, related_name="skill_scores"
    )
    release = models.ForeignKey(
        "releases.Release", on_delete=models.PROTECT, related_name="skill_scores"
    )
    run = models.ForeignKey(ValidationRun, on_delete=models.CASCADE, related_name="skill_scores")
    model = models.TextField()
    # The model's deployment status at the release's commit (deployed, shadow, ...), or "".
    status = models.TextField(blank=True)
    target = models.TextField()
    step = models.PositiveSmallIntegerField()
    month_id = models.IntegerField()
    cells = models.PositiveIntegerField()
    zeros = models.PositiveIntegerField()  # cells whose outcome is 0
    crps = models.FloatField()
    twcrps = models.FloatField()
    twcrps_threshold = models.FloatField()
    mse = models.FloatField()
    msle = models.FloatField()
    brier = models.FloatField()
    coverage_50 = models.FloatField()
    coverage_90 = models.FloatField()
    # Calibration: PIT histogram counts, coverage and mean width per nominal level, each for
    # all cells, zero and non-zero outcomes (monitoring.skill_ledger.calibration_summary).
    calibration = models.JSONField(default=dict)
    # The naive forecasts' scores on the same cells: {"zeros": {"crps": ..., "msle": ...},
    # "last": {...}} ("last": the unit's outcome the month before the forecast's first month,
    # absent when unknown); the floors of realized skill are judged against them.
    baselines = models.JSONField(default=dict)
    # The newest outcome revision among the cells scored: a newer one means score again.
    outcomes_revision = models.PositiveIntegerField()
    scored_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["release", "model", "target", "month_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "model", "target", "month_id"], name="skillscore_unique_key"
            ),
        ]
        indexes = [
            models.Index(
                fields=["repository", "model", "target", "step"], name="skillscore_series"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model}/{self.target}@{self.month_id}"
