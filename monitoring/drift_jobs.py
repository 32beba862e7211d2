"""Drift jobs: compare the prediction artifacts of two validation runs on the workers.

A job is planned when it starts (which files pair up, which columns, in which parts) and
the plan is kept in `DriftJob.summary["plan"]`, so a part is fully described by its job id
and its index. Each part (one model's file, one chunk of columns) is a Celery task:

    drift_part_run      profile the reference (or load its stored profile), read the
                        current file, compare column by column, then in one transaction:
                        write the part's DriftResult rows under (job, model, column) and,
                        only if a row was new, count the part with a conditional F() update
    _merge              the part that makes parts_done reach parts_total applies the
                        verdicts (Benjamini-Hochberg + minimum effect) across every column
                        of every model of the job, then marks the job done

Redelivery (acks_late): a part whose transaction committed already finds its rows and is
not counted twice; a part that died before committing wrote nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ewsdash import queue
from monitoring.artifacts import ArtifactCorrupted, artifact_verified
from monitoring.drift import (
    DEFAULT_CONFIG,
    ColumnProfile,
    DrawsComparison,
    DriftConfig,
    DriftInputError,
    ReferenceProfile,
    apply_verdicts,
    compare_column_profiles,
    profile_file,
)
from monitoring.drift.io import read_schema
from monitoring.drift.multiple import EFFECTS
from monitoring.drift_chart_data import distribution, draw_cells, finite, plain
from monitoring.models import (
    CheckArtifact,
    DriftJob,
    DriftJobStatus,
    DriftResult,
    ValidationRun,
)
from releases.access import require_permission
from releases.audit import audit_record
from releases.errors import ActionRefused
from releases.models import PromotionCandidate, Release, Repository

log = logging.getLogger(__name__)

PREDICTIONS = "predictions"
# Columns per part: small enough that one part's profiles stay a few hundred MB for
# draws columns, large enough that a wide file is not hundreds of tasks.
COLUMNS_PER_PART = 8
MODEL_FILE = re.compile(r"(?:^|/)predictions_(?P<model>[^/]+)\.parquet$")


def model_of(file_name: str) -> str:
    """The model a predictions file belongs to: predictions_<model>.parquet ("" if not so named)."""
    match = MODEL_FILE.search(file_name)
    return match.group("model") if match else ""


def _config(options: Mapping[str, Any]) -> DriftConfig:
    return DEFAULT_CONFIG.with_(**dict(options)) if options else DEFAULT_CONFIG


# -- planning ----------------------------------------------------------------------------------


def prediction_files(*, run: ValidationRun, check_name: str) -> dict[str, str]:
    """{file name: sha256} of the predictions a run's check produced."""
    uses = CheckArtifact.objects.filter(
        check_result__run=run, check_result__name=check_name, kind=PREDICTIONS
    ).values_list("name", "artifact__sha256")
    return dict(uses)


def _plan(
    *,
    reference: dict[str, str],
    current: dict[str, str],
    models: Sequence[str],
    columns: Sequence[str],
    config: DriftConfig,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The job's parts, and what could not be compared (reported in the summary)."""
    paired = sorted(name for name in reference if name in current)
    if models:
        paired = [name for name in paired if model_of(name) in models]
        absent = sorted(set(models) - {model_of(name) for name in paired})
        if absent:
            raise ActionRefused(f"no predictions of model(s) {', '.join(absent)} in both runs")
    if not paired:
        raise ActionRefused("the two runs have no prediction file of the same name to compare")
    parts: list[dict[str, Any]] = []
    skipped: dict[str, Any] = {
        "only_reference": sorted(set(reference) - set(current)),
        "only_current": sorted(set(current) - set(reference)),
        "columns": {},
    }
    for name in paired:
        try:
            ref_names = read_schema(artifact_verified(reference[name]), "reference").names
            cur_names = set(read_schema(artifact_verified(current[name]), "current").names)
        except (DriftInputError, ArtifactCorrupted) as error:
            raise ActionRefused(f"{name}: {error}") from error
        common = [c for c in ref_names if c in cur_names and c not in config.exclude_columns]
        if columns:
            chosen = [c for c in columns if c in common]
            missing = [c for c in columns if c not in common]
        else:
            # VIEWS prediction frames name their forecasts pred_*; the rest is identifiers
            # and features an analyst did not ask about.
            chosen = [c for c in common if c.startswith("pred_")]
            missing = []
        if missing:
            skipped["columns"][name] = missing
        for start in range(0, len(chosen), COLUMNS_PER_PART):
            parts.append(
                {
                    "file": name,
                    "model": model_of(name),
                    "reference_sha256": reference[name],
                    "current_sha256": current[name],
                    "columns": chosen[start : start + COLUMNS_PER_PART],
                }
            )
    if not parts:
        wanted = ", ".join(columns) if columns else "pred_*"
        raise ActionRefused(f"no column {wanted} in both runs' prediction files")
    return parts, skipped


def drift_job_start(
    *,
    repository: Repository,
    reference_run: ValidationRun,
    current_run: ValidationRun,
    actor: Any,
    models: Iterable[str] = (),
    columns: Iterable[str] = (),
    reference_label: str,
    current_label: str,
    check_name: str = "inference",
    source: str = "job",
    options: Mapping[str, Any] | None = None,
) -> DriftJob:
    """Plan a drift job, record it with its audit event, and enqueue its parts on commit.

    `options` are DriftConfig overrides (the validation check passes its manifest's).
    `actor` is a user, or a string naming a trusted system entry point ("manage.py drift",
    like `manage.py validate`): whoever runs commands on the server is no web role.
    Raises ActionRefused when the actor may not start jobs or there is nothing to compare.
    """
    if source == "job" and not isinstance(actor, str):
        require_permission(actor, "start_drift_job")
    for role, run in (("reference", reference_run), ("current", current_run)):
        if run.repository_id != repository.pk:
            raise ActionRefused(f"the {role} run #{run.pk} is not a run of {repository.name}")
    options = dict(options or {})
    try:
        config = _config(options)
    except (TypeError, ValueError) as error:
        raise ActionRefused(f"invalid drift options: {error}") from error
    models, columns = list(dict.fromkeys(models)), list(dict.fromkeys(columns))
    files = {}
    for role, run, label in (
        ("reference", reference_run, reference_label),
        ("current", current_run, current_label),
    ):
        files[role] = prediction_files(run=run, check_name=check_name)
        if not files[role]:
            raise ActionRefused(
                f"the {role} run #{run.pk} ({label}) has no prediction artifacts of the check "
                f'"{check_name}"'
            )
    # Reading the files' footers happens before the transaction: nothing is locked meanwhile.
    plan, skipped = _plan(
        reference=files["reference"],
        current=files["current"],
        models=models,
        columns=columns,
        config=config,
    )
    with transaction.atomic():
        job = DriftJob.objects.create(
            repository=repository,
            reference_run=reference_run,
            current_run=current_run,
            reference_label=reference_label[:200],
            current_label=current_label[:200],
            check_name=check_name,
            models=models,
            columns=columns,
            source=source,
            parts_total=len(plan),
            summary={"plan": plan, "skipped": skipped, "options": options},
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor,
            action="drift_job_start",
            obj=job,
            repository=repository,
            payload={
                "reference_run": reference_run.pk,
                "current_run": current_run.pk,
                "models": models,
                "columns": columns,
                "check": check_name,
                "source": source,
                "parts": len(plan),
            },
        )
        _enqueue_parts_on_commit(job.pk, len(plan))
    return job


def _enqueue_parts_on_commit(job_id: int, parts: int) -> None:
    for part in range(parts):
        queue.enqueue_on_commit(queue.DRIFT_PART_RUN, job_id=job_id, part=part)


# -- one part ----------------------------------------------------------------------------------


def drift_part_run(*, job_id: int, part: int) -> str:
    """Compute one part of a job and record it. Returns a line for the worker's log."""
    job = DriftJob.objects.filter(pk=job_id).first()
    if job is None or job.is_finished:
        return f"drift job {job_id} is gone or finished: part {part} not run"
    DriftJob.objects.filter(pk=job_id, status=DriftJobStatus.QUEUED).update(
        status=DriftJobStatus.RUNNING, started_at=timezone.now()
    )
    spec = job.summary["plan"][part]
    where = f"part {part + 1}/{job.parts_total} ({spec['file']}: {', '.join(spec['columns'])})"
    try:
        rows = _compute_part(spec, _config(job.summary.get("options") or {}))
    except DriftInputError as error:
        _fail(job_id, f"{where}: {error}")
        return f"drift job {job_id}: {where} failed: {error}"
    except Exception as error:  # a bug must end the job visibly, not leave it running
        log.exception("drift job %s %s failed", job_id, where)
        _fail(job_id, f"{where}: ewsdash could not compare: {error!r}")
        return f"drift job {job_id}: {where} failed"
    return _part_record(job_id=job_id, part=part, rows=rows)


def _fail(job_id: int, message: str) -> None:
    DriftJob.objects.filter(
        pk=job_id, status__in=(DriftJobStatus.QUEUED, DriftJobStatus.RUNNING)
    ).update(status=DriftJobStatus.ERROR, error=message, finished_at=timezone.now())


def _compute_part(spec: dict[str, Any], config: DriftConfig) -> list[dict[str, Any]]:
    columns = spec["columns"]
    reference = reference_profile(sha256=spec["reference_sha256"], columns=columns, config=config)
    current_file = artifact_verified(spec["current_sha256"])
    current = profile_file(current_file, columns, config, role="current")
    rows = []
    for column in columns:
        ref, cur = reference.columns[column], current.columns[column]
        result, cells = compare_column_profiles(ref, cur, config)
        rows.append(_row(spec["model"], column, result, cells, ref, cur, config))
    return rows


def reference_profile(
    *, sha256: str, columns: Sequence[str], config: DriftConfig
) -> ReferenceProfile:
    """The reference's profile of these columns, built once and stored beside the artifacts.

    Keyed by the file's content, the columns and the engine settings (not by run): ten
    candidates compared with one production release read and sort production once, and
    two runs that produced identical files share it too.
    """
    key = hashlib.sha256(
        json.dumps([list(columns), config.to_dict()], sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    path = Path(settings.EWSDASH_ARTIFACTS_DIR) / "profiles" / sha256[:2] / f"{sha256}-{key}.npz"
    if path.exists():
        try:
            return ReferenceProfile.load(path)
        except (OSError, ValueError, KeyError):
            log.warning("unreadable reference profile %s: rebuilding it", path)
    profile = profile_file(artifact_verified(sha256), columns, config)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed: a part reading it at the same moment never sees half a file.
    handle, scratch = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(profile.to_bytes())
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return profile


def _effect(kind: str, tests: dict[str, Any], config: DriftConfig) -> float | None:
    """The effect the verdict weighs most: the one largest relative to its minimum."""
    minimum = config.min_effect()
    values = [
        (v / minimum[name], v)
        for name in EFFECTS.get(kind, ())
        if (v := finite(tests.get(name, {}).get("value"))) is not None
    ]
    return max(values)[1] if values else None


def _row(
    model: str,
    column: str,
    result: dict[str, Any],
    cmp: DrawsComparison | None,
    ref: ColumnProfile,
    cur: ColumnProfile,
    config: DriftConfig,
) -> dict[str, Any]:
    tests = plain(result.get("tests", {}))
    return {
        "model": model,
        "column": column,
        "kind": result["kind"],
        "status": str(result["status"])[:40],
        "n_reference": int(result.get("n_reference", 0)),
        "n_current": int(result.get("n_current", 0)),
        "dropped": plain(result.get("dropped", {})),
        "tests": tests,
        "ks_statistic": finite(tests.get("ks", {}).get("statistic")),
        "ks_p_value": finite(tests.get("ks", {}).get("p_value")),
        "wasserstein_normed": finite(tests.get("wasserstein_normed", {}).get("value")),
        "psi": finite(tests.get("psi", {}).get("value")),
        "jensen_shannon": finite(tests.get("jensen_shannon", {}).get("value")),
        "effect": _effect(result["kind"], tests, config),
        "conventions": plain(result.get("conventions", {})),
        "distribution": distribution(ref, cur),
        "cells": draw_cells(result.get("cells"), cmp),
    }


def _part_record(*, job_id: int, part: int, rows: list[dict[str, Any]]) -> str:
    with transaction.atomic():
        job = DriftJob.objects.select_for_update().get(pk=job_id)
        if job.status != DriftJobStatus.RUNNING:
            return f"drift job {job_id} is {job.status}: part {part} discarded"
        created_any = False
        for row in rows:
            key = {"job": job, "model": row["model"], "column": row["column"]}
            defaults = {k: v for k, v in row.items() if k not in ("model", "column")}
            _, created = DriftResult.objects.update_or_create(**key, defaults=defaults)
            created_any = created_any or created
        if created_any:
            # The rows and this count commit together: a redelivered part finds its rows
            # and is not counted twice.
            DriftJob.objects.filter(pk=job_id, parts_done__lt=F("parts_total")).update(
                parts_done=F("parts_done") + 1
            )
        job.refresh_from_db(fields=["parts_done", "parts_total"])
        if job.parts_done < job.parts_total:
            return f"drift job {job_id}: part {part} recorded ({job.parts_done}/{job.parts_total})"
        _merge(job)
    return f"drift job {job_id}: part {part} recorded, job merged"


def _merge(job: DriftJob) -> None:
    """Verdicts across every column of every model of the job (the caller holds the lock)."""
    config = _config(job.summary.get("options") or {})
    results = list(job.results.all())
    engine = {
        f"{r.model}/{r.column}": {
            "kind": r.kind,
            "status": r.status,
            "tests": r.tests,
            "conventions": dict(r.conventions),
        }
        for r in results
    }
    summary = apply_verdicts(engine, config)
    for r in results:
        verdict = engine[f"{r.model}/{r.column}"]
        r.q_value = finite(verdict.get("q_value"))
        r.drifted = bool(verdict.get("drifted"))
        r.reason = str(verdict.get("reason", ""))[:200]
        r.conventions = plain(verdict["conventions"])
    DriftResult.objects.bulk_update(results, ["q_value", "drifted", "reason", "conventions"])
    cells = [r.cells for r in results if r.cells.get("status") == "ok"]
    summary.update(
        models=sorted({r.model for r in results}),
        drifted_columns=sorted(f"{r.model}/{r.column}" for r in results if r.drifted),
        cells_drifted=sum(int(c.get("drifted") or 0) for c in cells),
        cells_tested=sum(int(c.get("tested") or 0) for c in cells),
        scope="benjamini-hochberg across every column of every model of the job",
        plan=job.summary.get("plan", []),
        skipped=job.summary.get("skipped", {}),
        options=job.summary.get("options", {}),
    )
    job.summary = plain(summary)
    job.status = DriftJobStatus.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["summary", "status", "finished_at"])
    drifted = summary["drifted_columns"]
    if drifted:
        # Audited (and so notified: notifications' catalogue hears it) only when it found drift.
        audit_record(
            actor=None,
            action="drift_job.drift_found",
            obj=job,
            repository=job.repository,
            payload={"drifted_columns": drifted[:50], "count": len(drifted)},
        )


# -- the validation drift check ----------------------------------------------------------------


def run_label(run: ValidationRun) -> str:
    """How pages name a run: its release's version, its candidate, or the run itself."""
    release = (
        Release.objects.filter(repository_id=run.repository_id, commit=run.commit)
        .order_by("-tagged_at")
        .first()
    )
    if release is not None:
        return release.tag or release.version
    candidate = PromotionCandidate.objects.filter(validation_run=run).only("pk").first()
    if candidate is not None:
        return f"candidate #{candidate.pk}"
    return f"run #{run.pk} ({run.short_commit})"


def drift_job_record_validation(
    *,
    run: ValidationRun,
    check_name: str,
    artifacts_from: str,
    baseline_run_id: int,
    columns: Sequence[str],
    options: Mapping[str, Any],
) -> DriftJob | None:
    """Record what a finished drift check compared as a job (source "validation").

    The job runs the same parts as an analyst's (and so stores the same chart data); it
    never changes the check, whose verdict was written before. Nothing to compare (a file
    the reference lacks, say) is logged, not raised: the check already said it.
    """
    reference = ValidationRun.objects.filter(pk=baseline_run_id).first()
    if reference is None:
        return None
    try:
        return drift_job_start(
            repository=run.repository,
            reference_run=reference,
            current_run=run,
            actor=None,
            columns=columns,
            reference_label=run_label(reference),
            current_label=run_label(run),
            check_name=artifacts_from,
            source="validation",
            options=options,
        )
    except ActionRefused as error:
        log.info("drift check %s of run %s: no drift job recorded: %s", check_name, run.pk, error)
        return None
