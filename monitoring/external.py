"""External checks (issue 17): results reported through the API, and missed deadlines.

An ``external`` check (``monitoring/validation/kinds/external.py``) runs elsewhere. Once
the checks it would wait for have finished, dispatch makes it `running` with a deadline
and no worker (``monitoring.runs``). `external_result_report` takes its one report: the
run's commit must match, the files are written to a fresh folder, judged by the kind,
then stored like a worker's files (content-addressed, sha256) through the same
`claim_finish`, which dispatches the checks that read them (``schema``/``performance``/
``drift`` with ``from``). A second report, or one after the deadline, is refused (409).
`external_checks_time_out` (run by the reaper, every EWSDASH_REAPER_INTERVAL) turns a
check whose deadline passed into `timed_out`.
"""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from django.db import transaction
from django.utils import timezone

from monitoring import claims
from monitoring.claims import CheckReport, Claim
from monitoring.execution import (
    LOG_HEAD_BYTES,
    LOG_TAIL_BYTES,
    report_storable,
    scratch_root,
)
from monitoring.models import CheckResult, CheckStatus, ValidationRun
from monitoring.runs import EXTERNAL_CLAIMANT, checks_dispatch_ready, open_dependents
from monitoring.validation import JudgeContext, Manifest, get_kind
from monitoring.validation.process import BoundedLog
from releases.audit import audit_record
from releases.errors import ActionRefused

MAX_FILES = 200
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/")


@dataclasses.dataclass(frozen=True)
class Upload:
    """One uploaded file: its name in the check's {artifacts} folder and its content."""

    name: str
    chunks: Any  # an iterable of bytes (a Django UploadedFile's chunks(), or [data])


def _safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if (
        not name
        or path.is_absolute()
        or ".." in path.parts
        or not set(name) <= _NAME_CHARS
        or len(name) > 300
    ):
        raise ActionRefused(
            f"File name {name!r} refused: a relative path of letters, digits, '.', '_', '-' "
            "and '/' only."
        )
    return path.as_posix()


def _external_check(run: ValidationRun, name: str) -> CheckResult:
    check = CheckResult.objects.filter(run=run, name=name).first()
    if check is None:
        raise ActionRefused(f"Run #{run.pk} has no check named {name!r}.")
    if check.kind != "external":
        raise ActionRefused(f"Check {name!r} is a {check.kind} check, not an external one.")
    return check


def _refusal(check: CheckResult) -> str | None:
    """Why ``check`` cannot take a report now (None: it can)."""
    if check.status == CheckStatus.WAITING:
        return f"Check {check.name!r} still waits for the checks it needs; report later."
    if check.status == CheckStatus.TIMED_OUT:
        return f"Check {check.name!r} timed out: no result came by its deadline."
    if check.status != CheckStatus.RUNNING or check.claimed_by != EXTERNAL_CLAIMANT:
        return f"Check {check.name!r} already has its result ({check.status}); it takes one."
    return None


def external_result_report(
    *,
    run: ValidationRun,
    check_name: str,
    commit: str,
    status: str,
    summary: str,
    log: str,
    files: Sequence[Upload],
    actor: Any,
) -> CheckResult:
    """Take the one report of external check ``check_name`` of ``run``; refuse (409,
    ActionRefused) a wrong commit, a second report, or one after the deadline."""
    commit = commit.strip().lower()
    if len(commit) < 7 or not run.commit.startswith(commit) or len(commit) > len(run.commit):
        raise ActionRefused(
            f"Run #{run.pk} validates commit {run.commit}, not {commit or '(none)'}: a result "
            "is bound to the commit it was computed for."
        )
    check = _external_check(run, check_name)
    if (
        check.status == CheckStatus.RUNNING
        and check.deadline_at
        and check.deadline_at <= timezone.now()
    ):
        external_checks_time_out(check_ids=[check.pk])
        check.refresh_from_db()
    refusal = _refusal(check)
    if refusal is not None:
        raise ActionRefused(refusal)
    if len(files) > MAX_FILES:
        raise ActionRefused(f"At most {MAX_FILES} files a report.")
    names = [_safe_name(upload.name) for upload in files]
    if len(set(names)) != len(names):
        raise ActionRefused("Two uploaded files have the same name.")
    scratch = scratch_root() / f"external-{check.pk}-{uuid.uuid4().hex[:8]}"
    try:
        folder = scratch / "artifacts" / check.name
        folder.mkdir(parents=True)
        for name, upload in zip(names, files, strict=True):
            _write(folder / name, upload.chunks)
        report = _judged(run, check, folder, status, summary, log)
        with transaction.atomic():
            claim = Claim(check=check, token=check.claim_token)
            if not claims.claim_finish(claim=claim, report=report):
                raise ActionRefused(f"Check {check.name!r} took another result meanwhile.")
            audit_record(
                actor=actor,
                action="validation.external_reported",
                obj=run,
                repository=run.repository,
                payload={
                    "check": check.name,
                    "commit": run.commit,
                    "reported": status,
                    "status": report.status,
                    "files": names,
                },
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    check.refresh_from_db()
    return check


def _write(path: Path, chunks: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        for chunk in chunks:
            out.write(chunk)


def _judged(
    run: ValidationRun, check: CheckResult, folder: Path, status: str, summary: str, log: str
) -> CheckReport:
    spec = Manifest.from_dict(run.manifest or {}).check(check.name)
    context = JudgeContext(
        worktree=folder,
        folders={check.name: folder},
        reported={"status": status, "summary": summary},
    )
    outcome = get_kind(spec.kind).judge(spec, context)
    report = CheckReport(outcome.status, outcome.summary, dict(outcome.details))
    bounded = BoundedLog(LOG_HEAD_BYTES, LOG_TAIL_BYTES)
    bounded.write(log.encode())
    report.log_text, report.log_bytes, report.log_omitted = (
        bounded.text(),
        bounded.total,
        max(0, bounded.omitted),
    )
    named: dict[str, str] = {}
    for record in outcome.artifacts:
        named.setdefault(record["path"], record.get("kind", "file"))
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        name = path.relative_to(folder).as_posix()
        report.files.append((name, path, named.get(name, "file"), None))
    report.metrics = outcome.metrics
    return report_storable(report)


def external_checks_time_out(*, check_ids: Sequence[int] | None = None) -> list[int]:
    """Time out external checks whose deadline passed (all of them, or those ``check_ids``)."""
    now = timezone.now()
    due = CheckResult.objects.filter(
        status=CheckStatus.RUNNING, claimed_by=EXTERNAL_CLAIMANT, deadline_at__lte=now
    )
    if check_ids is not None:
        due = due.filter(pk__in=list(check_ids))
    timed_out = []
    for check_id, run_id in list(due.values_list("pk", "run_id")):
        with transaction.atomic():
            run = (
                ValidationRun.objects.select_for_update(of=("self",))
                .select_related("repository")
                .get(pk=run_id)
            )
            check = (
                CheckResult.objects.select_for_update()
                .filter(pk=check_id, status=CheckStatus.RUNNING, claimed_by=EXTERNAL_CLAIMANT)
                .first()
            )
            if check is None:
                continue  # reported meanwhile
            deadline = check.deadline_at
            check.status = CheckStatus.TIMED_OUT
            check.summary = (
                f"no result was reported by its deadline ({deadline:%Y-%m-%d %H:%M} UTC)"
            )
            check.claim_token = ""
            check.progress = ""
            check.finished_at = now
            check.save(
                update_fields=["status", "summary", "claim_token", "progress", "finished_at"]
            )
            audit_record(
                actor=None,
                action="validation.check_timed_out",
                obj=run,
                repository=run.repository,
                payload={"check": check.name, "commit": run.commit, "deadline": deadline},
            )
            checks_dispatch_ready(run)
            for dependent in open_dependents(run):
                checks_dispatch_ready(dependent)
            timed_out.append(check_id)
    return timed_out
