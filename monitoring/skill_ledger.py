"""Outcomes and the realized-skill ledger (issue 18).

`outcomes_record` takes observed values (`target, unit, month_id, value`) from the API, a
file (`manage.py outcomes load`) or the demo, in one transaction with its audit event: a
new revision that every value it set or changed carries. On commit it queues
`skill_ledger_update`, which beat also runs every EWSDASH_SKILL_INTERVAL seconds.

`skill_ledger_update` scores every production release's forecasts (the prediction files its
validation run stored; every model in them, shadow models too) against the outcomes, per
model, target and month (the step is the month's place in the forecast): a ledger row whose
outcomes changed since (a newer revision) is scored again, one with none is written.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max

from ewsdash import queue
from monitoring.artifacts import artifact_verified
from monitoring.chart_selectors import release_sequence
from monitoring.drift_jobs import PREDICTIONS, model_of
from monitoring.models import (
    CheckArtifact,
    ModelConfig,
    Outcome,
    OutcomeRevision,
    SkillScore,
    ValidationRun,
)
from monitoring.skill.forecasts import (
    ForecastError,
    forecast_layout,
    forecast_read,
    guess_unit,
    join_values,
)
from monitoring.skill.scores import score_cells
from monitoring.skill.summary import month_means, month_rows
from releases.access import require_permission
from releases.audit import audit_record
from releases.errors import ActionRefused
from releases.models import Repository

MAX_OUTCOME_ROWS = 500_000
UPSERT_FIELDS = (
    "run", "status", "step", "cells", "zeros", "crps", "twcrps", "twcrps_threshold", "mse",
    "msle", "brier", "coverage_50", "coverage_90", "calibration", "outcomes_revision",
    "scored_at",
)  # fmt: skip


@dataclass(frozen=True)
class OutcomeRow:
    target: str
    unit: int
    month_id: int
    value: float


def outcome_target(name: str) -> str:
    """Targets are named without the forecast column's `pred_` prefix."""
    name = name.strip()
    return name[len("pred_") :] if name.startswith("pred_") else name


def outcome_rows_check(rows: Iterable[Any]) -> list[OutcomeRow]:
    """Plain rows from mappings or tuples; ActionRefused names the first bad one."""
    checked: dict[tuple[str, int, int], OutcomeRow] = {}
    for index, row in enumerate(rows):
        try:
            if isinstance(row, dict):
                target, unit, month, value = (
                    row["target"], row["unit"], row["month_id"], row["value"],
                )  # fmt: skip
            else:
                target, unit, month, value = row
            item = OutcomeRow(outcome_target(str(target)), int(unit), int(month), float(value))
        except (KeyError, TypeError, ValueError) as error:
            raise ActionRefused(f"outcome row {index + 1}: {error!s}") from error
        if not item.target or not math.isfinite(item.value) or item.value < 0:
            raise ActionRefused(
                f"outcome row {index + 1}: needs a target and a finite value of at least 0"
            )
        checked[(item.target, item.unit, item.month_id)] = item  # the last one wins
        if len(checked) > MAX_OUTCOME_ROWS:
            raise ActionRefused(f"at most {MAX_OUTCOME_ROWS} outcomes per delivery")
    if not checked:
        raise ActionRefused("no outcome rows")
    return list(checked.values())


def outcomes_record(
    *,
    repository: Repository,
    rows: Iterable[Any],
    source: str,
    actor: Any,
    note: str = "",
    permission: str = "record_outcomes",
) -> OutcomeRevision:
    """Record observed outcomes as one new revision (audited) and queue the ledger's update.

    A value equal to the one recorded keeps its revision, so re-sending a month changes
    nothing; a different value (candidate data replaced by final data) takes the new one,
    and the ledger rows that used it are scored again. `actor` is a user (who must hold
    record_outcomes, or what `permission` names: the demo's synthetic months take an
    analyst's) or a string naming a trusted entry point ("manage.py outcomes").
    """
    if not isinstance(actor, str):
        require_permission(actor, permission)
    items = outcome_rows_check(rows)
    with transaction.atomic():
        revision = OutcomeRevision.objects.create(
            repository=repository,
            source=source,
            note=note,
            rows=len(items),
            recorded_by=None if isinstance(actor, str) else actor,
        )
        changed = _outcomes_write(repository, revision, items)
        revision.changed = changed
        revision.save(update_fields=["changed"])
        audit_record(
            actor=actor,
            action="outcomes.recorded",
            obj=revision,
            repository=repository,
            payload={
                "revision": revision.pk,
                "source": source,
                "rows": len(items),
                "changed": changed,
                "targets": sorted({item.target for item in items}),
                "months": sorted({item.month_id for item in items}),
            },
        )
        if changed:
            queue.enqueue_on_commit(queue.SKILL_LEDGER_UPDATE, repository_id=repository.pk)
    return revision


def _outcomes_write(
    repository: Repository, revision: OutcomeRevision, items: list[OutcomeRow]
) -> int:
    targets = {item.target for item in items}
    months = {item.month_id for item in items}
    existing = {
        (target, unit, month): (pk, value)
        for pk, target, unit, month, value in Outcome.objects.filter(
            repository=repository, target__in=targets, month_id__in=months
        ).values_list("pk", "target", "unit", "month_id", "value")
    }
    new: list[Outcome] = []
    updated: list[Outcome] = []
    for item in items:
        found = existing.get((item.target, item.unit, item.month_id))
        if found is None:
            new.append(
                Outcome(
                    repository=repository,
                    target=item.target,
                    unit=item.unit,
                    month_id=item.month_id,
                    value=item.value,
                    revision=revision,
                )
            )
        elif found[1] != item.value:
            updated.append(Outcome(pk=found[0], value=item.value, revision=revision))
    Outcome.objects.bulk_create(new, batch_size=2000)
    Outcome.objects.bulk_update(updated, ["value", "revision"], batch_size=2000)
    return len(new) + len(updated)


# -- scoring ----------------------------------------------------------------------------------


def _outcome_state(repository: Repository) -> dict[tuple[str, int], int]:
    """{(target, month): newest revision among its outcomes} (one query)."""
    return {
        (row["target"], row["month_id"]): row["revision"]
        for row in Outcome.objects.filter(repository=repository)
        .values("target", "month_id")
        .annotate(revision=Max("revision_id"), n=Count("pk"))
    }


def _ledger_state(repository: Repository) -> dict[tuple[int, str, str, int], int]:
    return {
        (release, model, target, month): revision
        for release, model, target, month, revision in SkillScore.objects.filter(
            repository=repository
        ).values_list("release_id", "model", "target", "month_id", "outcomes_revision")
    }


def _unit_and_time(run: ValidationRun) -> tuple[str | None, str]:
    for check in (run.manifest or {}).get("check", []):
        if check.get("kind") == "inference":
            return check.get("unit"), check.get("time", "month_id")
    return None, "month_id"


def _prediction_files(run_id: int) -> dict[str, str]:
    """{model: sha256}: each model's forecast file, once (several checks may list it)."""
    files: dict[str, str] = {}
    for name, sha in (
        CheckArtifact.objects.filter(check_result__run_id=run_id, kind=PREDICTIONS)
        .order_by("check_result__position", "name")
        .values_list("name", "artifact__sha256")
    ):
        model = model_of(name)
        if model:
            files.setdefault(model, sha)
    return files


def _statuses(repository: Repository, commit: str) -> dict[str, str]:
    return {
        name: status or ""
        for name, status in ModelConfig.objects.filter(
            snapshot__repository=repository, snapshot__commit=commit
        ).values_list("name", "status")
    }


def _observed(repository: Repository, target: str, months: list[int], units: Any, at: Any) -> Any:
    """The outcome of each forecast row (unit `units[i]`, month `at[i]`), NaN where none."""
    known = np.array(
        Outcome.objects.filter(repository=repository, target=target, month_id__in=months)
        .values_list("unit", "month_id", "value")
        .order_by(),
        dtype=np.float64,
    ).reshape(-1, 3)
    return join_values(units, at, known)


@dataclass
class LedgerUpdate:
    scored: int = 0  # ledger rows written or rewritten
    files: int = 0  # forecast files read
    problems: list[str] | None = None

    def __str__(self) -> str:
        return f"{self.scored} ledger rows scored from {self.files} forecast files"


def skill_ledger_update(*, repository: Repository) -> LedgerUpdate:
    """Score what is due: every (production release, model, target, month) with outcomes
    and no ledger row, or a row scored with an older revision of them."""
    result = LedgerUpdate(problems=[])
    outcomes = _outcome_state(repository)
    if not outcomes:
        return result
    ledger = _ledger_state(repository)
    threshold = float(settings.EWSDASH_SKILL_TWCRPS_THRESHOLD)
    releases = [r for r in release_sequence(repository=repository) if r.on_production and r.run_id]
    run_ids = {r.run_id for r in releases if r.run_id is not None}
    runs = {run.pk: run for run in ValidationRun.objects.filter(pk__in=run_ids)}
    for release in releases:
        run = runs[release.run_id]  # type: ignore[index]
        unit, time = _unit_and_time(run)
        statuses: dict[str, str] | None = None
        for model, sha in _prediction_files(run.pk).items():
            try:
                path = artifact_verified(sha)
                layout = forecast_layout(path, time=time)
            except (ForecastError, OSError, ValueError) as error:
                result.problems.append(f"{release.version} {model}: {error}")  # type: ignore[union-attr]
                continue
            due: dict[str, list[int]] = {}
            for column in layout.columns:
                target = column[len("pred_") :]
                months = [
                    m
                    for m in layout.months
                    if (target, m) in outcomes
                    and ledger.get((release.pk, model, target, m)) != outcomes[(target, m)]
                ]
                if months:
                    due[column] = months
            if not due:
                continue
            if statuses is None:
                statuses = _statuses(repository, release.commit)
            result.files += 1
            for column, months in due.items():
                try:
                    result.scored += _score_column(
                        repository=repository,
                        release_pk=release.pk,
                        run=run,
                        model=model,
                        status=statuses.get(model, ""),
                        path=path,
                        column=column,
                        unit=unit,
                        time=time,
                        months=months,
                        first_month=layout.first_month,
                        outcomes=outcomes,
                        threshold=threshold,
                    )
                except ForecastError as error:
                    result.problems.append(f"{release.version} {model} {column}: {error}")  # type: ignore[union-attr]
    return result


def _baselines(
    repository: Repository,
    target: str,
    first_month: int,
    units: Any,
    months: Any,
    observed: Any,
    threshold: float,
) -> dict[str, dict[int, dict[str, float]]]:
    """The naive forecasts' per-month scores: all zeros, and each unit's last outcome
    before the forecast (when every scored unit has one)."""
    zeros = score_cells(np.zeros((len(observed), 1)), observed, threshold=threshold)
    found = {"zeros": month_means(zeros, months)}
    before = first_month - 1
    last = _observed(repository, target, [before], units, np.full(len(units), before))
    if len(last) and np.isfinite(last).all():
        scored = score_cells(last[:, None], observed, threshold=threshold)
        found["last"] = month_means(scored, months)
    return found


def _score_column(
    *,
    repository: Repository,
    release_pk: int,
    run: ValidationRun,
    model: str,
    status: str,
    path: Any,
    column: str,
    unit: str | None,
    time: str,
    months: list[int],
    first_month: int,
    outcomes: dict[tuple[str, int], int],
    threshold: float,
) -> int:
    import pyarrow.parquet as pq

    target = column[len("pred_") :]
    unit = unit or guess_unit(pq.read_schema(path).names, time)
    forecast = forecast_read(path, column=column, unit=unit, months=months, time=time)
    observed = _observed(repository, target, months, forecast.units, forecast.months)
    keep = ~np.isnan(observed)
    if not keep.any():
        return 0
    seed = zlib.crc32(f"{release_pk}/{model}/{target}".encode())
    scores = score_cells(forecast.draws[keep], observed[keep], threshold=threshold, seed=seed)
    rows = month_rows(scores, observed[keep], forecast.months[keep])
    baselines = _baselines(
        repository, target, first_month, forecast.units[keep], forecast.months[keep],
        observed[keep], threshold,
    )  # fmt: skip
    for month, numbers in rows.items():
        numbers["baselines"] = {name: by_month[month] for name, by_month in baselines.items()}
    # One upsert for every month of the column: rows not due are not touched.
    SkillScore.objects.bulk_create(
        [
            SkillScore(
                repository=repository,
                release_id=release_pk,
                run=run,
                model=model,
                status=status,
                target=target,
                month_id=month,
                step=month - first_month + 1,
                twcrps_threshold=threshold,
                outcomes_revision=outcomes[(target, month)],
                **numbers,
            )
            for month, numbers in rows.items()
        ],
        update_conflicts=True,
        unique_fields=["release", "model", "target", "month_id"],
        update_fields=[*UPSERT_FIELDS],
    )
    return len(rows)


def _forecast_of(
    run_id: int | None, model: str, target: str, months: list[int]
) -> tuple[Any, Any, Any] | None:
    """(units, months, draws) of one model's `pred_<target>` in a run's stored forecast."""
    run = ValidationRun.objects.filter(pk=run_id).first() if run_id else None
    sha = _prediction_files(run.pk).get(model) if run else None
    if run is None or sha is None:
        return None
    import pyarrow.parquet as pq

    unit, time = _unit_and_time(run)
    try:
        path = artifact_verified(sha)
        unit = unit or guess_unit(pq.read_schema(path).names, time)
        forecast = forecast_read(path, column=f"pred_{target}", unit=unit, months=months, time=time)
    except (ForecastError, OSError, ValueError, KeyError):
        return None
    return forecast.units, forecast.months, forecast.draws


def paired_crps(
    *,
    repository: Repository,
    runs: tuple[int | None, int | None],
    model: str,
    target: str,
    months: list[int],
) -> tuple[Any, Any, Any] | None:
    """Both runs' CRPS of `model` on the cells (unit, month) both forecast and that have an
    outcome: (crps of the first, crps of the second, month of each cell), or None when
    either forecast cannot be read. The realized-skill alert compares releases with it when
    their unit lists differ (skill_alerts)."""
    first, second = (_forecast_of(run, model, target, months) for run in runs)
    if first is None or second is None:
        return None
    keys = [f[1].astype(np.int64) * 2**32 + f[0].astype(np.int64) for f in (first, second)]
    _, ia, ib = np.intersect1d(keys[0], keys[1], return_indices=True)
    at = first[1][ia]
    observed = _observed(repository, target, months, first[0][ia], at)
    keep = ~np.isnan(observed)
    threshold = float(settings.EWSDASH_SKILL_TWCRPS_THRESHOLD)
    a = score_cells(first[2][ia][keep], observed[keep], threshold=threshold).crps
    b = score_cells(second[2][ib][keep], observed[keep], threshold=threshold).crps
    return a, b, at[keep]
