"""Every state change of staging validation, each in one transaction with its audit event.

Runs and the production reference
    `validation_run_start` reads the manifest at the commit from the cache clone and
    creates the run with one CheckResult per declared check. A commit has one current run
    (its latest attempt): starting again returns it, unless it was cancelled; a re-run is
    a new attempt. A run of any commit other than production's head gets a *reference*:
    the current run of production's head (started too, purpose `reference`, if missing).
    A `performance` or `drift` check waits for the reference's check of the same name,
    which records the baseline (metrics rows, prediction files) it compares with.

Dispatch
    Checks start `waiting`; `_dispatch_ready_checks` moves each one whose dependencies
    (`from`, `{artifacts:NAME}`, the reference check) have finished to `queued` and
    enqueues its task on commit, or to `skipped` when a dependency did not pass. It runs
    when a run starts and after every finish, here and in the runs that reference it.

Claims, heartbeats, the reaper and redelivery
    A task claims its check with a conditional UPDATE (queued -> running, fresh token),
    so a second message for the same check finds nothing to claim and returns. While it
    runs, the worker writes `heartbeat_at` every EWSDASH_CHECK_HEARTBEAT_INTERVAL; every
    later write is conditional on its token, so a worker that lost its claim writes
    nothing. When a worker dies (SIGKILL, OOM, hard time limit), its message is only
    redelivered by the broker much later (Redis: after the visibility timeout, hours), so
    the reaper does not wait for that: a running check whose heartbeat is older than the
    timeout goes back to `queued` with a new message (or to `error` after MAX_CLAIMS
    claims). The broker's late redelivery then finds the check claimed or finished and
    does nothing.

Locks
    Writers lock the repository, then a run, then a check, in that order, so that
    PostgreSQL never has two of them wait on each other.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from monitoring.models import (
    CHECK_FINAL,
    Artifact,
    CheckArtifact,
    CheckResult,
    CheckStatus,
    ModelMetric,
    RunPurpose,
    RunStatus,
    ValidationRun,
)
from monitoring.validation import Manifest, ManifestError, MetricRow, get_kind, parse_manifest
from releases import git
from releases.audit import audit_record
from releases.errors import ActionRefused
from releases.models import Repository
from releases.services import clone_dir, clone_open

log = logging.getLogger(__name__)

# A check whose worker died this many times is marked `error` instead of re-queued:
# a command that kills its worker every time must not loop for ever.
MAX_CLAIMS = 3
# Time a task may take beyond its command's timeout (worktree, reading files, drift).
EVALUATION_MARGIN_S = 600


# -- the cache clone ------------------------------------------------------------------------


def commit_resolve(*, repository: Repository, ref: str) -> str:
    """The commit `ref` names: a full sha as is (fetched if the clone lacks it); a branch or
    tag as the origin has it now (a person naming "development" means its head today)."""
    ref = ref.strip()
    path = clone_dir(repository.name)
    try:
        with git.clone_lock(path):
            repo = clone_open(repository)
            sha = git.resolve_commit(repo, ref) if git.SHA_RE.match(ref) else None
            if sha is None:
                repo.fetch()
                sha = git.resolve_commit(repo, ref)
    except git.GitError as error:
        raise ActionRefused(f"Cannot read {repository.name}'s clone: {error}") from None
    if sha is None:
        raise ActionRefused(
            f"{ref!r} is neither a branch, a tag nor a commit of {repository.name}."
        )
    return sha


def _production_head(repository: Repository) -> str | None:
    path = clone_dir(repository.name)
    with git.clone_lock(path):
        repo = clone_open(repository)
        return git.resolve_commit(repo, f"refs/heads/{repository.production_branch}")


@dataclasses.dataclass(frozen=True)
class ManifestRead:
    manifest: Manifest | None
    error: str  # the ManifestError's message, naming file, line and field
    missing: bool


def manifest_read(*, repository: Repository, commit: str) -> ManifestRead:
    """The manifest at `commit` (never at a branch head: later commits change nothing)."""
    path = clone_dir(repository.name)
    try:
        with git.clone_lock(path):
            data = git.read_file_at(clone_open(repository), commit, repository.manifest_path)
    except git.GitError as error:
        raise ActionRefused(
            f"Cannot read {repository.manifest_path} at {commit[:10]}: {error}"
        ) from None
    if data is None:
        return ManifestRead(None, "", missing=True)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return ManifestRead(
            None, f"{repository.manifest_path}: not UTF-8 text (byte {error.start})", False
        )
    try:
        return ManifestRead(parse_manifest(text, path=repository.manifest_path), "", False)
    except ManifestError as error:
        return ManifestRead(None, str(error), False)


# -- runs -----------------------------------------------------------------------------------


def current_run(*, repository: Repository, commit: str) -> ValidationRun | None:
    """The latest attempt for this commit: the one promotion gates read."""
    return (
        ValidationRun.objects.filter(repository=repository, commit=commit)
        .order_by("-attempt")
        .first()
    )


def validation_run_start(
    *, repository: Repository, commit: str, actor: Any, purpose: str
) -> ValidationRun:
    """Validate `commit` (a sha or any ref the clone knows): create the run, enqueue its checks.

    Returns the commit's current run instead when there is one that was not cancelled:
    the same commit and manifest give the same verdict, and re-running is an explicit act
    (`validation_run_rerun`). A malformed manifest gives a `failed` run whose
    `manifest_error` names file, line and field; a commit without a manifest gives an
    `error` run "no validation declared": both without checks, both blocking promotion.
    """
    if purpose not in RunPurpose.values:
        raise ValueError(f"unknown purpose {purpose!r}")
    sha = commit_resolve(repository=repository, ref=commit)
    existing = current_run(repository=repository, commit=sha)
    if existing is not None and existing.status != RunStatus.CANCELLED:
        return existing
    return _run_create(repository=repository, commit=sha, actor=actor, purpose=purpose)


def validation_run_rerun(*, run: ValidationRun, actor: Any) -> ValidationRun:
    """Validate the run's commit again as a new attempt; the new attempt becomes current."""
    if not run.is_finished:
        raise ActionRefused(f"Run #{run.pk} is still {run.status}; cancel it first.")
    latest = current_run(repository=run.repository, commit=run.commit)
    if latest is not None and latest.pk != run.pk and not latest.is_finished:
        raise ActionRefused(f"Attempt {latest.attempt} of this commit is already {latest.status}.")
    return _run_create(
        repository=run.repository,
        commit=run.commit,
        actor=actor,
        purpose=run.purpose,
        rerun_of=run,
    )


def _reference_for(
    repository: Repository, commit: str, manifest: Manifest | None, actor: Any
) -> ValidationRun | None:
    """The production reference run a run of `commit` compares with (started if missing)."""
    if manifest is None or not any(
        get_kind(spec.kind).compares_with_production for spec in manifest.checks
    ):
        return None
    head = _production_head(repository)
    if head is None or head == commit:
        return None
    return validation_run_start(
        repository=repository, commit=head, actor=actor, purpose=RunPurpose.REFERENCE
    )


def _run_create(
    *,
    repository: Repository,
    commit: str,
    actor: Any,
    purpose: str,
    rerun_of: ValidationRun | None = None,
) -> ValidationRun:
    read = manifest_read(repository=repository, commit=commit)
    reference = None
    if purpose != RunPurpose.REFERENCE:
        reference = _reference_for(repository, commit, read.manifest, actor)
    user = actor if getattr(actor, "is_authenticated", False) else None
    now = timezone.now()
    with transaction.atomic():
        Repository.objects.select_for_update().filter(pk=repository.pk).first()
        if reference is not None:
            # Serialises with the reference's check_finish, which wakes this run's
            # comparison checks: one of the two always sees the other's commit.
            ValidationRun.objects.select_for_update().filter(pk=reference.pk).first()
        if rerun_of is None:
            existing = current_run(repository=repository, commit=commit)
            if existing is not None and existing.status != RunStatus.CANCELLED:
                return existing  # another request created it while we read the manifest
        last = ValidationRun.objects.filter(repository=repository, commit=commit).aggregate(
            n=Max("attempt")
        )["n"]
        run = ValidationRun(
            repository=repository,
            commit=commit,
            attempt=(last or 0) + 1,
            purpose=purpose,
            manifest_path=repository.manifest_path,
            reference=reference,
            created_by=user,
        )
        if read.missing:
            run.status = RunStatus.ERROR
            run.summary = (
                f"no validation declared ({repository.manifest_path} not found at {commit[:10]})"
            )
            run.finished_at = now
        elif read.manifest is None:
            run.status = RunStatus.FAILED
            run.manifest_error = read.error
            run.summary = f"malformed manifest: {read.error}"
            run.finished_at = now
        else:
            run.manifest = read.manifest.to_dict()
            run.summary = f"{len(read.manifest.checks)} checks declared"
        run.save()
        if read.manifest is not None:
            CheckResult.objects.bulk_create(
                CheckResult(
                    run=run,
                    position=index,
                    name=spec.name,
                    kind=spec.kind,
                    required=spec.required,
                    timeout_s=spec.timeout_s,
                )
                for index, spec in enumerate(read.manifest.checks)
            )
        audit_record(
            actor=actor,
            action="validation.rerun" if rerun_of else "validation.started",
            obj=run,
            repository=repository,
            payload={
                "commit": commit,
                "attempt": run.attempt,
                "purpose": purpose,
                "status": run.status,
                "reference": reference.pk if reference else None,
                "manifest_error": run.manifest_error,
            },
        )
        if read.manifest is not None:
            _dispatch_ready_checks(run)
    return run


def validation_run_cancel(*, run: ValidationRun, actor: Any) -> ValidationRun:
    """Stop a run: checks not started are cancelled now; running ones stop within seconds.

    A running check's worker reads `cancel_requested` with its heartbeat and kills the
    command's process group; a check whose worker is gone is settled by the reaper.
    """
    now = timezone.now()
    with transaction.atomic():
        locked = ValidationRun.objects.select_for_update().get(pk=run.pk)
        if locked.is_finished:
            raise ActionRefused(f"Run #{locked.pk} has already finished ({locked.status}).")
        if locked.cancel_requested:
            return locked
        locked.cancel_requested = True
        locked.save(update_fields=["cancel_requested"])
        CheckResult.objects.filter(
            run=locked, status__in=[CheckStatus.WAITING, CheckStatus.QUEUED]
        ).update(
            status=CheckStatus.CANCELLED, summary="cancelled before it started", finished_at=now
        )
        audit_record(
            actor=actor,
            action="validation.cancelled",
            obj=locked,
            repository=locked.repository,
            payload={"commit": locked.commit, "attempt": locked.attempt},
        )
        _finish_run_if_done(locked)
        # Runs that were waiting for this one as their reference can go on (without it).
        for dependent in _open_dependents(locked):
            _dispatch_ready_checks(dependent)
    locked.refresh_from_db()
    return locked


def _open_dependents(run: ValidationRun) -> list[ValidationRun]:
    return list(ValidationRun.objects.filter(reference=run, finished_at__isnull=True))


# -- dispatch -------------------------------------------------------------------------------


def _manifest_of(run: ValidationRun) -> Manifest:
    return Manifest.from_dict(run.manifest or {})


def _reference_check(run: ValidationRun, name: str) -> CheckResult | None:
    if run.reference_id is None:
        return None
    return CheckResult.objects.filter(run_id=run.reference_id, name=name).first()


def _dispatch_ready_checks(run: ValidationRun) -> list[int]:
    """Queue every waiting check whose dependencies finished; skip those whose did not pass.

    Runs inside the caller's transaction; each move is a conditional UPDATE, so two
    workers finishing at once never queue a check twice. Returns the queued ids.
    """
    assert transaction.get_connection().in_atomic_block
    run.refresh_from_db(fields=["cancel_requested", "status", "finished_at"])
    if run.manifest is None:
        return []
    specs = {spec.name: spec for spec in _manifest_of(run).checks}
    queued: list[tuple[int, int]] = []
    now = timezone.now()
    changed = True
    while changed:  # a skip can make the checks after it skippable too
        changed = False
        checks = list(CheckResult.objects.filter(run=run).order_by("position"))
        status = {check.name: check.status for check in checks}
        for check in checks:
            if check.status != CheckStatus.WAITING:
                continue
            spec = specs[check.name]
            waiting_for = [name for name in spec.depends_on if status[name] not in CHECK_FINAL]
            failed = [
                name
                for name in spec.depends_on
                if status[name] in CHECK_FINAL and status[name] != CheckStatus.PASSED
            ]
            update: dict[str, Any]
            if run.cancel_requested:
                update = {"status": CheckStatus.CANCELLED, "summary": "cancelled before it started"}
            elif failed:
                update = {
                    "status": CheckStatus.SKIPPED,
                    "summary": f"skipped: {', '.join(failed)} did not pass",
                }
            elif waiting_for:
                continue
            else:
                if get_kind(spec.kind).compares_with_production:
                    baseline = _reference_check(run, check.name)
                    if baseline is not None and baseline.status not in CHECK_FINAL:
                        continue
                update = {"status": CheckStatus.QUEUED, "queued_at": now}
            if update["status"] != CheckStatus.QUEUED:
                update["finished_at"] = now
            moved = CheckResult.objects.filter(pk=check.pk, status=CheckStatus.WAITING).update(
                **update
            )
            if moved:
                changed = True
                if update["status"] == CheckStatus.QUEUED:
                    queued.append((check.pk, check.timeout_s))
    for check_id, timeout_s in queued:
        _enqueue_on_commit(check_id, timeout_s)
    _finish_run_if_done(run)
    return [check_id for check_id, _ in queued]


def task_time_limits(timeout_s: int) -> tuple[int, int]:
    """(soft, hard) limits of one check's task: the command's timeout plus evaluation time.

    The hard limit stays below the broker's visibility timeout, so Redis never hands a
    live task's message to a second worker.
    """
    ceiling = settings.EWSDASH_BROKER_VISIBILITY_TIMEOUT - 60
    hard = min(timeout_s + EVALUATION_MARGIN_S + 120, ceiling)
    return max(hard - 60, 1), hard


def _enqueue_on_commit(check_id: int, timeout_s: int) -> None:
    from monitoring.tasks import run_check

    soft, hard = task_time_limits(timeout_s)
    transaction.on_commit(
        lambda: run_check.apply_async(
            kwargs={"check_id": check_id}, soft_time_limit=soft, time_limit=hard
        )
    )


def _run_verdict(checks: Iterable[CheckResult], cancelled: bool) -> tuple[str, str]:
    checks = list(checks)
    if cancelled:
        return RunStatus.CANCELLED, "cancelled"
    required = [check for check in checks if check.required]
    advisory_failed = [c.name for c in checks if not c.required and c.status != CheckStatus.PASSED]
    note = f" (advisory not passed: {', '.join(advisory_failed)})" if advisory_failed else ""
    by_status: dict[str, list[str]] = {}
    for check in required:
        by_status.setdefault(check.status, []).append(check.name)
    for status, verdict in (
        (CheckStatus.FAILED, RunStatus.FAILED),
        (CheckStatus.SKIPPED, RunStatus.FAILED),
        (CheckStatus.TIMED_OUT, RunStatus.TIMED_OUT),
        (CheckStatus.ERROR, RunStatus.ERROR),
        (CheckStatus.CANCELLED, RunStatus.CANCELLED),
    ):
        if by_status.get(status):
            label = status.label
            if status == CheckStatus.SKIPPED:
                label = "not run (a check it needs did not pass)"
            return verdict, f"{label}: {', '.join(by_status[status])}{note}"
    return RunStatus.PASSED, f"{len(required)} required checks passed{note}"


def _finish_run_if_done(run: ValidationRun) -> bool:
    """Give the run its verdict once every check is final (inside the caller's transaction)."""
    checks = list(CheckResult.objects.filter(run=run))
    if not checks or any(check.status not in CHECK_FINAL for check in checks):
        return False
    status, summary = _run_verdict(checks, run.cancel_requested)
    now = timezone.now()
    done = ValidationRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(
        status=status, summary=summary, finished_at=now
    )
    if not done:
        return False
    run.status, run.summary, run.finished_at = status, summary, now
    audit_record(
        actor=None,
        action="validation.finished",
        obj=run,
        repository=run.repository,
        payload={
            "commit": run.commit,
            "attempt": run.attempt,
            "status": status,
            "summary": summary,
        },
    )
    # Candidates take the verdict in a transaction of their own, after this one: their
    # row locks are never taken while this run's and its checks' locks are held.
    run_id = run.pk
    transaction.on_commit(lambda: _candidates_follow(run_id))
    return True


def _candidates_follow(run_id: int) -> None:
    from releases.promotion import candidates_follow_run

    with transaction.atomic():
        run = ValidationRun.objects.get(pk=run_id)
        candidates_follow_run(run=run)


# -- claims, heartbeats, results ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Claim:
    check: CheckResult
    token: str


def check_claim(*, check_id: int, worker: str) -> Claim | None:
    """Take a queued check for this worker, or None when it is not queued (any more).

    The conditional UPDATE is the lock: of two deliveries of the same message, one gets
    the row and the other gets nothing.
    """
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        taken = CheckResult.objects.filter(pk=check_id, status=CheckStatus.QUEUED).update(
            status=CheckStatus.RUNNING,
            claim_token=token,
            claimed_by=worker[:200],
            heartbeat_at=now,
            started_at=now,
            progress="starting",
            claims=F("claims") + 1,
        )
        if not taken:
            return None
        check = CheckResult.objects.select_related("run__repository", "run__reference").get(
            pk=check_id
        )
        ValidationRun.objects.filter(pk=check.run_id, started_at__isnull=True).update(
            started_at=now
        )
        ValidationRun.objects.filter(pk=check.run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.RUNNING
        )
    return Claim(check=check, token=token)


def check_release(*, claim: Claim) -> bool:
    """Give a claimed check back to the queue (an infrastructure error will be retried)."""
    return bool(
        CheckResult.objects.filter(
            pk=claim.check.pk, claim_token=claim.token, status=CheckStatus.RUNNING
        ).update(
            status=CheckStatus.QUEUED,
            claim_token="",
            queued_at=timezone.now(),
            progress="waiting to retry",
        )
    )


def check_heartbeat(
    *,
    claim: Claim,
    progress: str | None = None,
    log_text: str | None = None,
    log_bytes: int | None = None,
    log_omitted: int | None = None,
) -> bool:
    """Record that the worker is alive (and the live log); True while it should go on.

    False when the run was cancelled or the claim was lost (the reaper gave the check to
    another worker): either way the command must stop.
    """
    fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
    if progress is not None:
        fields["progress"] = progress[:300]
    if log_text is not None:
        fields.update(log=log_text, log_bytes=log_bytes or 0, log_bytes_omitted=log_omitted or 0)
    held = CheckResult.objects.filter(
        pk=claim.check.pk, claim_token=claim.token, status=CheckStatus.RUNNING
    ).update(**fields)
    if not held:
        return False
    return not ValidationRun.objects.filter(pk=claim.check.run_id, cancel_requested=True).exists()


def check_still_wanted(*, claim: Claim) -> bool:
    """The read-only half of `check_heartbeat`: still ours, and the run not cancelled."""
    return CheckResult.objects.filter(
        pk=claim.check.pk,
        claim_token=claim.token,
        status=CheckStatus.RUNNING,
        run__cancel_requested=False,
    ).exists()


@dataclasses.dataclass
class CheckReport:
    """What a worker found; written by `check_finish` exactly once."""

    status: str
    summary: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    exit_code: int | None = None
    duration_s: float | None = None
    log_text: str = ""
    log_bytes: int = 0
    log_omitted: int = 0
    # (original name, path on disk, kind, rows)
    files: list[tuple[str, Path, str, int | None]] = dataclasses.field(default_factory=list)
    metrics: list[MetricRow] = dataclasses.field(default_factory=list)
    directions: dict[str, str] = dataclasses.field(default_factory=dict)


def check_finish(*, claim: Claim, report: CheckReport) -> bool:
    """Write a check's result under its claim, once; then dispatch what waited for it.

    Returns False (and writes nothing) when the claim no longer holds: the check was
    re-queued to another worker, or finished already.
    """
    if report.status not in CHECK_FINAL:
        raise ValueError(f"{report.status!r} is not a final status")
    stored = [(name, artifact_store(path), kind, rows) for name, path, kind, rows in report.files]
    now = timezone.now()
    with transaction.atomic():
        # Locks in the order run, then check, everywhere (see the module docstring).
        run = (
            ValidationRun.objects.select_for_update(of=("self",))
            .select_related("repository")
            .get(pk=claim.check.run_id)
        )
        check = (
            CheckResult.objects.select_for_update()
            .filter(pk=claim.check.pk, claim_token=claim.token, status=CheckStatus.RUNNING)
            .first()
        )
        if check is None:
            return False
        check.status = report.status
        check.summary = report.summary
        check.details = report.details
        check.exit_code = report.exit_code
        check.duration_s = report.duration_s
        check.log = report.log_text
        check.log_bytes = report.log_bytes
        check.log_bytes_omitted = report.log_omitted
        check.finished_at = now
        check.heartbeat_at = now
        check.progress = ""
        check.save()
        CheckArtifact.objects.bulk_create(
            [
                CheckArtifact(
                    check_result=check, artifact=artifact, name=name[:500], kind=kind, rows=rows
                )
                for name, artifact, kind, rows in _unique_names(stored)
            ]
        )
        ModelMetric.objects.bulk_create(
            [
                ModelMetric(
                    run=run,
                    check_result=check,
                    model=row.model,
                    target=row.target,
                    metric=row.metric,
                    step=row.step,
                    value=row.value,
                    direction=report.directions.get(row.metric, ""),
                )
                for row in _unique_metrics(report.metrics)
            ]
        )
        audit_record(
            actor=None,
            action="validation.check_finished",
            obj=run,
            repository=run.repository,
            payload={
                "check": check.name,
                "status": check.status,
                "summary": check.summary[:500],
                "commit": run.commit,
                "attempt": run.attempt,
            },
        )
        _dispatch_ready_checks(run)
        for dependent in _open_dependents(run):
            _dispatch_ready_checks(dependent)
    return True


def _unique_names(items: list[tuple[str, Artifact, str, int | None]]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item[0] not in seen:
            seen.add(item[0])
            out.append(item)
    return out


def _unique_metrics(rows: list[MetricRow]) -> list[MetricRow]:
    # A metrics file with a repeated key fails the performance check; store its first value.
    seen: set[tuple[Any, ...]] = set()
    out = []
    for row in rows:
        if row.key not in seen:
            seen.add(row.key)
            out.append(row)
    return out


# -- the artifact store ---------------------------------------------------------------------


def artifact_path(sha256: str) -> Path:
    return Path(settings.EWSDASH_ARTIFACTS_DIR) / "sha256" / sha256[:2] / sha256[2:]


def artifact_store(path: Path) -> Artifact:
    """Store a file by its content's sha256 (once, read-only) and return its row."""
    import hashlib

    root = Path(settings.EWSDASH_ARTIFACTS_DIR)
    scratch_dir = root / "incoming"
    scratch_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    handle, scratch_name = tempfile.mkstemp(dir=scratch_dir)
    scratch = Path(scratch_name)
    try:
        with os.fdopen(handle, "wb") as out, open(path, "rb") as source:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
        sha = digest.hexdigest()
        final = artifact_path(sha)
        size = scratch.stat().st_size
        if final.exists():
            scratch.unlink()
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            scratch.chmod(0o444)
            os.replace(scratch, final)  # atomic: a reader never sees half a file
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    try:
        with transaction.atomic():
            artifact, _ = Artifact.objects.get_or_create(sha256=sha, defaults={"size": size})
    except IntegrityError:  # another worker stored the same content at the same moment
        artifact = Artifact.objects.get(sha256=sha)
    return artifact


def artifact_copy_to(artifact: Artifact, dest: Path) -> None:
    """A private, writable copy: a check must never be able to change the store."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(artifact_path(artifact.sha256), dest)


# -- the reaper -----------------------------------------------------------------------------


@dataclasses.dataclass
class ReapOutcome:
    requeued: list[int] = dataclasses.field(default_factory=list)
    abandoned: list[int] = dataclasses.field(default_factory=list)
    cancelled: list[int] = dataclasses.field(default_factory=list)
    resent: list[int] = dataclasses.field(default_factory=list)
    dispatched: list[int] = dataclasses.field(default_factory=list)


def validation_reap_stale(
    *, heartbeat_timeout: float, resend_after: float | None = None
) -> ReapOutcome:
    """Settle checks whose worker died: re-queue them (or `error` after MAX_CLAIMS claims).

    A running check with no heartbeat for `heartbeat_timeout` seconds lost its worker. A
    check queued for longer than `resend_after` seconds gets a second message, in case the
    first was lost (the claim makes duplicates harmless). Beat runs this every
    EWSDASH_REAPER_INTERVAL seconds.
    """
    outcome = ReapOutcome()
    now = timezone.now()
    stale = list(
        CheckResult.objects.filter(
            status=CheckStatus.RUNNING, heartbeat_at__lt=now - timedelta(seconds=heartbeat_timeout)
        ).values_list("pk", "run_id")
    )
    for check_id, run_id in stale:
        with transaction.atomic():
            run = (
                ValidationRun.objects.select_for_update(of=("self",))
                .select_related("repository")
                .get(pk=run_id)
            )
            check = (
                CheckResult.objects.select_for_update()
                .filter(
                    pk=check_id,
                    status=CheckStatus.RUNNING,
                    heartbeat_at__lt=now - timedelta(seconds=heartbeat_timeout),
                )
                .first()
            )
            if check is None:
                continue  # it finished or beat again meanwhile
            silent = f"its worker ({check.claimed_by}) stopped responding"
            fields: dict[str, Any]
            if run.cancel_requested:
                fields = {"status": CheckStatus.CANCELLED, "summary": f"cancelled; {silent}"}
                outcome.cancelled.append(check_id)
                action = "validation.check_cancelled"
            elif check.claims >= MAX_CLAIMS:
                fields = {
                    "status": CheckStatus.ERROR,
                    "summary": f"{silent}, {check.claims} times; not retried again",
                }
                outcome.abandoned.append(check_id)
                action = "validation.check_abandoned"
            else:
                fields = {
                    "status": CheckStatus.QUEUED,
                    "queued_at": now,
                    "progress": f"re-queued: {silent}",
                }
                outcome.requeued.append(check_id)
                action = "validation.check_requeued"
            if fields["status"] != CheckStatus.QUEUED:
                fields["finished_at"] = now
            CheckResult.objects.filter(pk=check_id).update(claim_token="", **fields)
            audit_record(
                actor=None,
                action=action,
                obj=run,
                repository=run.repository,
                payload={"check": check.name, "claims": check.claims, "worker": check.claimed_by},
            )
            if fields["status"] == CheckStatus.QUEUED:
                _enqueue_on_commit(check_id, check.timeout_s)
            else:
                _dispatch_ready_checks(run)
                for dependent in _open_dependents(run):
                    _dispatch_ready_checks(dependent)

    if resend_after is not None:
        cutoff = now - timedelta(seconds=resend_after)
        for check_id, timeout_s in CheckResult.objects.filter(
            status=CheckStatus.QUEUED, queued_at__lt=cutoff
        ).values_list("pk", "timeout_s"):
            with transaction.atomic():
                if CheckResult.objects.filter(
                    pk=check_id, status=CheckStatus.QUEUED, queued_at__lt=cutoff
                ).update(queued_at=now):
                    outcome.resent.append(check_id)
                    _enqueue_on_commit(check_id, timeout_s)

    # A wake-up can be lost when a run starts while its reference's check finishes in a
    # concurrent transaction; looking again here bounds the wait to one reaper interval.
    waiting = (
        ValidationRun.objects.filter(finished_at__isnull=True, checks__status=CheckStatus.WAITING)
        .values_list("pk", flat=True)
        .distinct()
    )
    for run_id in list(waiting):
        with transaction.atomic():
            run = ValidationRun.objects.select_for_update(of=("self",)).get(pk=run_id)
            outcome.dispatched += _dispatch_ready_checks(run)

    # A candidate whose run finished while the follow-up was lost (the process died
    # between the two transactions) takes the verdict now.
    from releases.models import PromotionCandidate

    behind = (
        PromotionCandidate.objects.filter(
            status="validating", validation_run__finished_at__isnull=False
        )
        .values_list("validation_run_id", flat=True)
        .distinct()
    )
    for run_id in list(behind):
        _candidates_follow(run_id)
    return outcome


def validation_runs_for_releases(*, repository: Repository, actor: Any) -> list[ValidationRun]:
    """Validate every release on production that has no run yet (its evidence and the
    history the model-health pages draw). Releases made by ewsdash carry their
    candidate's run already."""
    from releases.models import Release

    runs = []
    for commit in Release.objects.filter(
        repository=repository, on_production=True, candidate__isnull=True
    ).values_list("commit", flat=True):
        # A release's run is a reference: it records its outputs and metrics as they are,
        # and compares with nothing (older releases are not regressions of production).
        runs.append(
            validation_run_start(
                repository=repository, commit=commit, actor=actor, purpose=RunPurpose.REFERENCE
            )
        )
    return runs
