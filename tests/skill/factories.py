"""Production releases with stored forecasts (posterior draws), and their outcomes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from django.utils import timezone

from monitoring.models import ConfigSnapshot, ModelConfig, ValidationRun
from releases.models import Release
from tests.drift_jobs.drift_job_factories import store_predictions

UNITS = np.array([4, 7, 9, 12, 20, 31], dtype=np.int64)
FIRST_MONTH, STEPS, DRAWS = 540, 4, 50
MODELS = {"orange_pasta": "deployed", "purple_alien": "shadow"}


def forecast_draws(model: str, seed: int, factor: float = 1.0) -> np.ndarray:
    """(step, unit, draw): zero-inflated counts, different per model."""
    rng = np.random.default_rng([seed, len(model)])
    scale = (0.9 if model == "orange_pasta" else 3.6) * factor
    rates = scale * (1 + np.arange(len(UNITS)))[None, :, None]
    counts = rng.poisson(rates, size=(STEPS, len(UNITS), DRAWS))
    return np.where(rng.random(counts.shape) < 0.3, 0, counts).astype(np.float32)


def forecast_table(draws: np.ndarray, units: np.ndarray = UNITS) -> pa.Table:
    """`draws` (step, unit, draw) of `units` (all of UNITS by default)."""
    if len(units) < len(UNITS):
        draws = draws[:, np.isin(UNITS, units), :]
    months = np.repeat(np.arange(FIRST_MONTH, FIRST_MONTH + STEPS), len(units))
    return pa.table(
        {
            "month_id": pa.array(months, pa.int32()),
            "country_id": pa.array(np.tile(units, STEPS), pa.int32()),
            "pred_lr_ged_sb": pa.array(list(draws.reshape(-1, DRAWS)), pa.list_(pa.float32())),
        }
    )


def release_with_forecasts(
    release: Release,
    *,
    seed: int = 1,
    factor: float = 1.0,
    floors: list | None = None,
    units: np.ndarray = UNITS,
) -> ValidationRun:
    """A finished validation run of the release's commit whose inference check stored one
    forecast file per model (of `units`: a subset of UNITS forecasts the same for each),
    and the models' deployment statuses at that commit."""
    run = ValidationRun.objects.create(
        repository=release.repository,
        commit=release.commit,
        attempt=ValidationRun.objects.filter(commit=release.commit).count() + 1,
        purpose="reference",
        status="passed",
        manifest={
            "path": "ewsdash.toml",
            "check": [
                {"name": "inference", "kind": "inference", "unit": "country_id"},
                {"name": "backtest", "kind": "skill", "floors": floors or []},
            ],
        },
        manifest_path="ewsdash.toml",
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    store_predictions(
        run,
        {
            f"predictions_{model}.parquet": forecast_table(
                forecast_draws(model, seed, factor), units
            )
            for model in MODELS
        },
    )
    snapshot, _ = ConfigSnapshot.objects.get_or_create(
        repository=release.repository, commit=release.commit
    )
    for model, status in MODELS.items():
        ModelConfig.objects.get_or_create(
            snapshot=snapshot,
            kind="model",
            name=model,
            defaults={"status": status, "path": f"models/{model}"},
        )
    return run


def outcome_rows(months: range, *, seed: int = 7, bump: float = 0.0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        {
            "target": "lr_ged_sb",
            "unit": int(unit),
            "month_id": month,
            "value": float(rng.poisson(5) if rng.random() < 0.6 else 0) + bump,
        }
        for month in months
        for unit in UNITS
    ]
