"""Validation runs: start, re-run, cancel, dispatch their checks, give their verdict.

Runs and the production reference
    `run_plan` reads, under the clone lock and before any transaction, what git says: the
    commit a ref names, the manifest at that commit, and (when the manifest compares with
    production) the same for production's head. `validation_run_create` then creates the
    run from the plan, with one CheckResult per declared check, inside the caller's
    transaction or its own. A commit has one current run (its latest attempt): creating
    again returns it, unless it was cancelled; a re-run is a new attempt. A run of any
    commit other than production's head gets a *reference*: the current run of
    production's head (created too, purpose `reference`, if missing). A check whose kind
    compares with production waits for the reference's check of the same name, which
    records the baseline (metrics rows, prediction files) it compares with.

Dispatch
    Checks start `waiting`; `checks_dispatch_ready` moves each one whose dependencies
    (`from`, `{artifacts:NAME}`, the reference check) have finished to `queued` and
    enqueues its task on commit, or to `skipped` when a dependency did not pass. It runs
    when a run starts and after every finish (monitoring.claims), here and in the runs
    that reference it. When every check is final the run gets its verdict and, once that
    committed, `monitoring.signals.run_finished` is sent (releases' candidates follow it).

Locks
    Git before the database (see releases.clones). Writers lock the repository, then a
    run, then a check, in that order, so that PostgreSQL never has two of them wait on
    each other.
"""

from __future__ import annotations

import dataclasses
import difflib
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ewsdash import queue
from monitoring.models import (
    CHECK_FINAL,
    CheckResult,
    CheckStatus,
    ManifestApproval,
    ManifestSource,
    RunPurpose,
    RunStatus,
    ValidationRun,
)
from monitoring.signals import run_finished
from monitoring.validation import Manifest, ManifestError, get_kind, parse_manifest
from releases import git
from releases.audit import audit_record
from releases.clones import PAGE_CLONE_WAIT, clone_session
from releases.errors import ActionRefused
from releases.models import Release, Repository

# Time a task may take beyond its command's timeout (worktree, reading files, drift).
EVALUATION_MARGIN_S = 600


# -- what git says: the plan of a run -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ManifestRead:
    manifest: Manifest | None
    error: str  # the ManifestError's message, naming file, line and field
    missing: bool


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """A commit and the manifest that judges it, as git has them, read before any
    transaction opens.

    `read` is the trusted manifest: production's when the commit is not on production
    (`source` "production"), the commit's own when it is on production, when production
    has none or when an admin approved the change (`source` "candidate" for the last two).
    `changed` says the commit's own manifest differs from production's, `diff` how.
    """

    repository: Repository
    commit: str
    read: ManifestRead
    # The plan of production's head when this run compares with it (else None).
    reference: RunPlan | None = None
    source: str = ManifestSource.PRODUCTION
    changed: bool = False
    diff: str = ""


def _resolve(repo: git.GitRepo, repository: Repository, ref: str, *, fetch: bool = True) -> str:
    """The commit `ref` names: a full sha as is (fetched if the clone lacks it); a branch or
    tag as the origin has it now (a person naming "development" means its head today).

    Without `fetch` (a web request, which never waits on the network) the clone as of the
    last sync answers, and a name it does not know is refused with what to do.
    """
    ref = ref.strip()
    sha = git.resolve_commit(repo, ref) if git.SHA_RE.match(ref) else None
    if sha is None:
        if fetch:
            repo.fetch()
        sha = git.resolve_commit(repo, ref)
    if sha is None and not fetch:
        raise ActionRefused(
            f"{ref!r} is not a branch, a tag or a commit of {repository.name} as of its last "
            "sync: sync the repository (or let its webhook do it) and try again."
        )
    if sha is None:
        raise ActionRefused(
            f"{ref!r} is neither a branch, a tag nor a commit of {repository.name}."
        )
    return sha


def _manifest_bytes(repo: git.GitRepo, repository: Repository, commit: str) -> bytes | None:
    try:
        return git.read_file_at(repo, commit, repository.manifest_path)
    except git.GitError as error:
        raise ActionRefused(
            f"Cannot read {repository.manifest_path} at {commit[:10]}: {error}"
        ) from None


def _manifest_parse(repository: Repository, data: bytes | None) -> ManifestRead:
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


def _manifest_at(repo: git.GitRepo, repository: Repository, commit: str) -> ManifestRead:
    """The manifest at `commit` (never at a branch head: later commits change nothing)."""
    return _manifest_parse(repository, _manifest_bytes(repo, repository, commit))


def _manifest_diff(repository: Repository, production: bytes | None, own: bytes | None) -> str:
    path = repository.manifest_path
    before = (production or b"").decode("utf-8", "replace").splitlines(keepends=True)
    after = (own or b"").decode("utf-8", "replace").splitlines(keepends=True)
    lines = difflib.unified_diff(
        before,
        after,
        fromfile=f"production/{path}" if production is not None else "/dev/null",
        tofile=f"candidate/{path}" if own is not None else "/dev/null",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _trusted_manifest(
    repo: git.GitRepo,
    repository: Repository,
    commit: str,
    head: str | None,
    approved: bool | None = None,
) -> tuple[ManifestRead, str, bool, str]:
    """(the manifest that judges `commit`, its source, whether the commit changes it, diff).

    A commit on production (its head or an ancestor) is judged by its own manifest: it
    was production's. Any other commit by production's, unless production has none (then
    nothing is trusted and its own is used, marked changed) or an admin approved the
    commit's manifest change (ManifestApproval).
    """
    own_bytes = _manifest_bytes(repo, repository, commit)
    own = _manifest_parse(repository, own_bytes)
    if head is None or head == commit or git.is_ancestor(repo, commit, head):
        return own, ManifestSource.PRODUCTION, False, ""
    production_bytes = _manifest_bytes(repo, repository, head)
    changed = own_bytes != production_bytes
    diff = _manifest_diff(repository, production_bytes, own_bytes) if changed else ""
    if production_bytes is None:
        return own, ManifestSource.CANDIDATE, changed, diff
    if approved is None:
        approved = ManifestApproval.objects.filter(repository=repository, commit=commit).exists()
    if changed and approved:
        return own, ManifestSource.CANDIDATE, changed, diff
    production = own if not changed else _manifest_parse(repository, production_bytes)
    return production, ManifestSource.PRODUCTION, changed, diff


def _compares_with_production(read: ManifestRead) -> bool:
    manifest = read.manifest
    return manifest is not None and any(
        get_kind(spec.kind).compares_with_production for spec in manifest.checks
    )


def run_plan(
    *,
    repository: Repository,
    ref: str,
    manifest_approved: bool | None = None,
    in_request: bool = False,
) -> RunPlan:
    """Resolve `ref` and read the manifests a run of it needs, under the clone lock.

    Call it before opening a transaction (git before the database). `manifest_approved`
    (default: whether a ManifestApproval exists) makes a changed manifest the judge.
    `in_request`: never fetch, and wait at most PAGE_CLONE_WAIT seconds for the clone.
    """
    try:
        wait = PAGE_CLONE_WAIT if in_request else None
        with clone_session(repository, wait=wait) as repo:
            commit = _resolve(repo, repository, ref, fetch=not in_request)
            head = git.resolve_commit(repo, f"refs/heads/{repository.production_branch}")
            read, source, changed, diff = _trusted_manifest(
                repo, repository, commit, head, manifest_approved
            )
            reference = None
            if _compares_with_production(read) and head is not None and head != commit:
                reference = RunPlan(repository, head, _manifest_at(repo, repository, head))
    except git.GitError as error:
        raise ActionRefused(f"Cannot read {repository.name}'s clone: {error}") from None
    return RunPlan(repository, commit, read, reference, source, changed, diff)


def commit_resolve(*, repository: Repository, ref: str) -> str:
    """The commit `ref` names (see `_resolve`)."""
    try:
        with clone_session(repository) as repo:
            return _resolve(repo, repository, ref)
    except git.GitError as error:
        raise ActionRefused(f"Cannot read {repository.name}'s clone: {error}") from None


def manifest_read(*, repository: Repository, commit: str) -> ManifestRead:
    """The manifest at `commit`, parsed, or why it cannot be used."""
    with clone_session(repository) as repo:
        return _manifest_at(repo, repository, commit)


# -- runs -----------------------------------------------------------------------------------


def current_run(*, repository: Repository, commit: str) -> ValidationRun | None:
    """The latest attempt for this commit: the one promotion gates read."""
    return (
        ValidationRun.objects.filter(repository=repository, commit=commit)
        .order_by("-attempt")
        .first()
    )


def validation_run_start(
    *, repository: Repository, commit: str, actor: Any, purpose: str, in_request: bool = False
) -> ValidationRun:
    """Validate `commit` (a sha or any ref the clone knows): create the run, enqueue its checks.

    Returns the commit's current run instead when there is one that was not cancelled:
    the same commit and manifest give the same verdict, and re-running is an explicit act
    (`validation_run_rerun`). A malformed manifest gives a `failed` run whose
    `manifest_error` names file, line and field; a commit without a manifest gives an
    `error` run "no validation declared": both without checks, both blocking promotion.
    Reads git first, so it must not be called inside a transaction that holds row locks.
    """
    plan = run_plan(repository=repository, ref=commit, in_request=in_request)
    return validation_run_create(plan=plan, actor=actor, purpose=purpose)


def validation_run_rerun(
    *, run: ValidationRun, actor: Any, plan: RunPlan | None = None
) -> ValidationRun:
    """Validate the run's commit again as a new attempt; the new attempt becomes current.

    `plan` (from `run_plan`, read before the caller's transaction) is read here when absent.
    """
    if plan is None:
        plan = run_plan(repository=run.repository, ref=run.commit)
    if not run.is_finished:
        raise ActionRefused(f"Run #{run.pk} is still {run.status}; cancel it first.")
    latest = current_run(repository=run.repository, commit=run.commit)
    if latest is not None and latest.pk != run.pk and not latest.is_finished:
        raise ActionRefused(f"Attempt {latest.attempt} of this commit is already {latest.status}.")
    return validation_run_create(plan=plan, actor=actor, purpose=run.purpose, rerun_of=run)


def validation_run_create(
    *, plan: RunPlan, actor: Any, purpose: str, rerun_of: ValidationRun | None = None
) -> ValidationRun:
    """Create the run `plan` describes (and its reference), queue its ready checks.

    Database only: runs in the caller's transaction when there is one.
    """
    if purpose not in RunPurpose.values:
        raise ValueError(f"unknown purpose {purpose!r}")
    repository, commit, read = plan.repository, plan.commit, plan.read
    user = actor if getattr(actor, "is_authenticated", False) else None
    now = timezone.now()
    with transaction.atomic():
        Repository.objects.select_for_update().filter(pk=repository.pk).first()
        if rerun_of is None:
            existing = current_run(repository=repository, commit=commit)
            if existing is not None and existing.status != RunStatus.CANCELLED:
                return existing  # the same commit and manifest give the same verdict
        reference = None
        if purpose != RunPurpose.REFERENCE and plan.reference is not None:
            reference = validation_run_create(
                plan=plan.reference, actor=actor, purpose=RunPurpose.REFERENCE
            )
            # Serialises with the reference's claim_finish, which wakes this run's
            # comparison checks: one of the two always sees the other's commit.
            ValidationRun.objects.select_for_update().filter(pk=reference.pk).first()
        last = ValidationRun.objects.filter(repository=repository, commit=commit).aggregate(
            n=Max("attempt")
        )["n"]
        run = ValidationRun(
            repository=repository,
            commit=commit,
            attempt=(last or 0) + 1,
            purpose=purpose,
            manifest_path=repository.manifest_path,
            manifest_source=plan.source,
            manifest_changed=plan.changed,
            manifest_diff=plan.diff,
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
                "manifest_source": plan.source,
                "manifest_changed": plan.changed,
            },
        )
        if read.manifest is not None:
            checks_dispatch_ready(run)
    return run


def manifest_change_approve(
    *, repository: Repository, commit: str, actor: Any, reason: str
) -> ManifestApproval:
    """Record an admin's approval of `commit`'s manifest change, with its audit event.

    Inside the caller's transaction; the caller checks the permission, validates again
    with the approved manifest and voids what was approved under the old one.
    """
    if not reason.strip():
        raise ActionRefused("Approving a manifest change needs a reason.")
    user = actor if getattr(actor, "is_authenticated", False) else None
    approval, created = ManifestApproval.objects.get_or_create(
        repository=repository,
        commit=commit,
        defaults={"approved_by": user, "reason": reason.strip()},
    )
    if created:
        audit_record(
            actor=actor,
            action="validation.manifest_approved",
            obj=approval,
            repository=repository,
            payload={"commit": commit, "reason": reason.strip()},
        )
    return approval


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
        CheckResult.objects.filter(
            run=locked, status=CheckStatus.RUNNING, claimed_by=EXTERNAL_CLAIMANT
        ).update(
            status=CheckStatus.CANCELLED,
            summary="cancelled while waiting for its external result",
            claim_token="",
            progress="",
            finished_at=now,
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
        for dependent in open_dependents(locked):
            checks_dispatch_ready(dependent)
    locked.refresh_from_db()
    return locked


def open_dependents(run: ValidationRun) -> list[ValidationRun]:
    return list(ValidationRun.objects.filter(reference=run, finished_at__isnull=True))


# -- dispatch -------------------------------------------------------------------------------


def _manifest_of(run: ValidationRun) -> Manifest:
    return Manifest.from_dict(run.manifest or {})


def _reference_check(run: ValidationRun, name: str) -> CheckResult | None:
    if run.reference_id is None:
        return None
    return CheckResult.objects.filter(run_id=run.reference_id, name=name).first()


def checks_dispatch_ready(run: ValidationRun) -> list[int]:
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
    awaiting = False
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
                if spec.kind == "external":
                    update = _awaiting_report(spec, now)
            if update["status"] not in (CheckStatus.QUEUED, CheckStatus.RUNNING):
                update["finished_at"] = now
            moved = CheckResult.objects.filter(pk=check.pk, status=CheckStatus.WAITING).update(
                **update
            )
            if moved:
                changed = True
                awaiting = awaiting or update["status"] == CheckStatus.RUNNING
                if update["status"] == CheckStatus.QUEUED:
                    queued.append((check.pk, check.timeout_s))
    for check_id, timeout_s in queued:
        check_enqueue_on_commit(check_id, timeout_s)
    if awaiting:  # an external check started waiting: the run has started
        ValidationRun.objects.filter(pk=run.pk, started_at__isnull=True).update(started_at=now)
        ValidationRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
            status=RunStatus.RUNNING
        )
    _finish_run_if_done(run)
    return [check_id for check_id, _ in queued]


# Who holds an external check while it waits for its report (monitoring.external).
EXTERNAL_CLAIMANT = "an external report (API)"


def _awaiting_report(spec: Any, now: Any) -> dict[str, Any]:
    """An external check's move once it is ready: it runs elsewhere, so no task is queued;
    it waits (running, no heartbeat, so the reaper leaves it alone) until its report
    comes or its deadline passes."""
    deadline = now + timedelta(seconds=spec.deadline_s)
    return {
        "status": CheckStatus.RUNNING,
        "queued_at": now,
        "started_at": now,
        "claim_token": uuid.uuid4().hex,
        "claimed_by": EXTERNAL_CLAIMANT,
        "claims": 1,
        "deadline_at": deadline,
        "progress": f"waiting for its result through the API until {deadline:%Y-%m-%d %H:%M} UTC",
    }


def task_time_limits(timeout_s: int) -> tuple[int, int]:
    """(soft, hard) limits of one check's task: the command's timeout plus evaluation time.

    The hard limit stays below the broker's visibility timeout, so Redis never hands a
    live task's message to a second worker.
    """
    ceiling = settings.EWSDASH_BROKER_VISIBILITY_TIMEOUT - 60
    hard = min(timeout_s + EVALUATION_MARGIN_S + 120, ceiling)
    return max(hard - 60, 1), hard


def check_enqueue_on_commit(check_id: int, timeout_s: int) -> None:
    """Queue the check's task once the transaction commits, with its time limits."""
    soft, hard = task_time_limits(timeout_s)
    queue.enqueue_on_commit(
        queue.CHECK_RESULT_RUN, check_id=check_id, soft_time_limit=soft, time_limit=hard
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
        (CheckStatus.INCONCLUSIVE, RunStatus.FAILED),
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
    # Whoever follows runs (releases' candidates) does so in a transaction of its own,
    # after this one: their row locks are never taken while this run's are held.
    run_id = run.pk
    transaction.on_commit(lambda: run_finished.send(sender=ValidationRun, run_id=run_id))
    return True


def validation_runs_for_releases(*, repository: Repository, actor: Any) -> list[ValidationRun]:
    """Validate every release on production that has no run yet (its evidence and the
    history the model-health pages draw). Releases made by ewsdash carry their
    candidate's run already."""
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
