"""Two validation runs with real parquet predictions in the artifact store, for drift jobs."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from django.utils import timezone

from monitoring.artifacts import artifact_store
from monitoring.models import CheckArtifact, CheckResult, DriftJob, DriftResult, ValidationRun
from tests.validation_runs.factories import make_run

UNITS, MONTHS, DRAWS = 12, 6, 32
FIRST_MONTH = 500


def predictions_table(*, seed: int, shift: float = 0.0, extra_columns: int = 0) -> pa.Table:
    """One row per (country, month): a numeric forecast, a draws column, and extras."""
    rng = np.random.default_rng(seed)
    rows = UNITS * MONTHS
    units = np.repeat(np.arange(1, UNITS + 1), MONTHS)
    months = np.tile(np.arange(FIRST_MONTH, FIRST_MONTH + MONTHS), UNITS)
    draws = rng.gamma(2.0, 1.0 + units[:, None] / UNITS, size=(rows, DRAWS)) + shift * 3
    columns = {
        "country_id": pa.array(units, pa.int64()),
        "month_id": pa.array(months, pa.int64()),
        "pred_ln_sb": pa.array(rng.normal(1.0 + shift, 1.0, rows)),
        "pred_lr_ged_sb": pa.array(list(draws), pa.list_(pa.float64())),
        "feature_x": pa.array(rng.normal(size=rows)),
    }
    for i in range(extra_columns):
        columns[f"pred_extra_{i}"] = pa.array(rng.normal(size=rows))
    return pa.table(columns)


def store_predictions(
    run: ValidationRun, tables: dict[str, pa.Table], check_name: str = "inference"
) -> CheckResult:
    check = CheckResult.objects.create(
        run=run,
        position=run.checks.count(),
        name=check_name,
        kind="inference",
        timeout_s=60,
        status="passed",
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    with tempfile.TemporaryDirectory() as folder:
        for name, table in tables.items():
            path = Path(folder) / name
            pq.write_table(table, path)
            CheckArtifact.objects.create(
                check_result=check,
                artifact=artifact_store(path),
                name=name,
                kind="predictions",
                rows=table.num_rows,
            )
    return check


def runs_with_predictions(
    *, shifted_model: str = "orange_pasta"
) -> tuple[ValidationRun, ValidationRun]:
    """A reference and a current run of "pipeline": three models, one of them shifted.

    purple_alien has 10 extra pred_* columns, so its file is two parts (8 columns a part).
    """
    models = {"orange_pasta": 0, "purple_alien": 10, "blank_space": 0}
    reference, current = make_run(), make_run()
    store_predictions(
        reference,
        {
            f"predictions_{m}.parquet": predictions_table(seed=i, extra_columns=extra)
            for i, (m, extra) in enumerate(models.items())
        },
    )
    store_predictions(
        current,
        {
            f"predictions_{m}.parquet": predictions_table(
                seed=100 + i, shift=1.5 if m == shifted_model else 0.0, extra_columns=extra
            )
            for i, (m, extra) in enumerate(models.items())
        },
    )
    return reference, current


def make_drift_job(*, status: str = "done", results: int = 3) -> DriftJob:
    """A job of "pipeline" written straight into the database (no files), for pages."""
    reference, current = make_run(), make_run()
    job = DriftJob.objects.create(
        repository=reference.repository,
        reference_run=reference,
        current_run=current,
        reference_label="v1.0.0",
        current_label="candidate #1",
        status=status,
        parts_total=results,
        parts_done=results if status == "done" else 0,
        summary={
            "columns": results,
            "tested": results,
            "drifted": 1,
            "alpha": 0.05,
            "method": "benjamini-hochberg",
            "cells_drifted": 0,
            "cells_tested": 0,
        },
    )
    DriftResult.objects.bulk_create(
        DriftResult(
            job=job,
            model=f"model_{i}",
            column="pred_ln_sb",
            kind="numeric",
            status="ok",
            n_reference=100,
            n_current=100,
            ks_statistic=0.5,
            ks_p_value=1e-6,
            q_value=3e-6,
            wasserstein_normed=0.4,
            psi=0.3,
            jensen_shannon=0.2,
            effect=0.4,
            drifted=i == 0,
            reason="significant_and_effect" if i == 0 else "effect_below_minimum",
        )
        for i in range(results)
    )
    return job


def done_drift_job() -> int:
    return make_drift_job().pk
