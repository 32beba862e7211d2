"""Forecast state-based conflict fatalities for every active model.

    python run_inference.py --out DIR

For each model under models/ whose deployment status is not "deprecated", writes
DIR/predictions_<model>.parquet (one row per country and month, with posterior draws) and
adds the model's backtest scores to DIR/metrics.json.

The data loader is a stand-in: a seeded synthetic conflict landscape replaces the VIEWS
database so the pipeline runs offline and reproducibly.
"""

from __future__ import annotations

import argparse
import json
import runpy
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent
FIRST_MONTH = 541  # January 2025; VIEWS month_id 1 is January 1980
STEPS = 36
N_DRAWS = 128
DATA_SEED = 20240601
MAX_COUNTRY_ID = 256
ACTIVE_STATUSES = ("deployed", "shadow", "baseline")


@dataclass(frozen=True)
class Model:
    name: str
    version: int
    level: str
    targets: list[str]
    status: str
    hyperparameters: dict[str, float]


def load_models(root: Path = ROOT) -> list[Model]:
    models = []
    for configs in sorted(root.glob("models/*/configs")):
        meta = runpy.run_path(str(configs / "config_meta.py"))
        deployment = runpy.run_path(str(configs / "config_deployment.py"))
        hyper = runpy.run_path(str(configs / "config_hyperparameters.py"))
        models.append(
            Model(
                name=meta["name"],
                version=meta["model_version"],
                level=meta["level"],
                targets=list(meta["targets"]),
                status=deployment["deployment_status"],
                hyperparameters=dict(hyper["hyperparameters"]),
            )
        )
    return models


def load_country_ids(root: Path = ROOT) -> np.ndarray:
    lines = (root / "data" / "country_ids.txt").read_text().splitlines()
    ids = [int(line) for line in lines if line.strip() and not line.startswith("#")]
    return np.array(ids, dtype=np.int32)


def conflict_landscape() -> tuple[np.ndarray, np.ndarray]:
    """Per country id: the chance of a fatal month, and typical log1p fatalities in one."""
    rng = np.random.default_rng(DATA_SEED)
    hot = rng.random(MAX_COUNTRY_ID) < 0.3
    p_active = np.where(
        hot, rng.uniform(0.4, 0.95, MAX_COUNTRY_ID), rng.uniform(0.0, 0.08, MAX_COUNTRY_ID)
    )
    log_level = np.where(
        hot, rng.uniform(2.0, 5.5, MAX_COUNTRY_ID), rng.uniform(0.3, 1.5, MAX_COUNTRY_ID)
    )
    return p_active, log_level


def sample(hyper: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """Zero-inflated log-normal draws, shaped (step, country id, draw).

    Every country id in the landscape is drawn, listed or not, so that adding or dropping
    a country from the unit list leaves the other countries' draws unchanged.
    """
    p_active, log_level = conflict_landscape()
    steps = np.arange(1, STEPS + 1, dtype=np.float64)[:, None, None]
    shape = (STEPS, MAX_COUNTRY_ID, N_DRAWS)
    fatal = rng.random(shape) < np.clip(p_active * hyper["activity"], 0.0, 1.0)[None, :, None]
    centre = log_level[None, :, None] * hyper["intensity"] + hyper["trend"] * steps
    spread = hyper["sigma"] * (1.0 + hyper["horizon_spread"] * steps)
    log1p_fatalities = np.maximum(centre + spread * rng.standard_normal(shape), 0.0)
    return np.where(fatal, np.expm1(log1p_fatalities), 0.0).astype(np.float32)


def model_seed(model: Model) -> list[int]:
    # crc32 rather than hash(): Python salts str hashes per process.
    return [zlib.crc32(model.name.encode()), model.version]


def predictions_table(model: Model, country_ids: np.ndarray) -> pa.Table:
    draws = sample(model.hyperparameters, np.random.default_rng(model_seed(model)))
    draws = draws[:, country_ids, :]
    months = np.arange(FIRST_MONTH, FIRST_MONTH + STEPS, dtype=np.int32)
    offsets = np.arange(0, draws.size + 1, N_DRAWS, dtype=np.int32)
    columns = {
        "month_id": pa.array(np.repeat(months, len(country_ids))),
        "country_id": pa.array(np.tile(country_ids, STEPS)),
    }
    for target in model.targets:
        values = pa.array(draws.reshape(-1), type=pa.float32())
        columns[f"pred_{target}"] = pa.ListArray.from_arrays(pa.array(offsets), values)
    return pa.table(columns)


def simulated_outcomes() -> np.ndarray:
    """Outcomes of the synthetic calibration partition, shaped (step, country id, outcome).

    The stand-in world is known, so models are scored against many of its outcomes per
    cell rather than one: score changes between versions then reflect the model, not luck.
    """
    truth = {"activity": 1.0, "intensity": 1.0, "trend": 0.0, "sigma": 0.9, "horizon_spread": 0.01}
    return sample(truth, np.random.default_rng(DATA_SEED + 1)).astype(np.float64)


def mean_pairwise_distance(samples: np.ndarray) -> np.ndarray:
    """E|X - X'| over the last axis, in O(n log n) from the sorted samples."""
    n = samples.shape[-1]
    weights = 2.0 * np.arange(1, n + 1) - n - 1
    return 2.0 * (np.sort(samples, axis=-1) * weights).sum(axis=-1) / (n * n)


def mean_cross_distance(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """E|X - Y| for equal-sized samples: the pooled pair sum minus both within-sample sums."""
    pooled = mean_pairwise_distance(np.concatenate([x, y], axis=-1)) * 4.0
    return (pooled - mean_pairwise_distance(x) - mean_pairwise_distance(y)) / 2.0


def backtest(model: Model, outcomes: np.ndarray) -> list[dict[str, object]]:
    # The seed ignores the model version (common random numbers), so score changes
    # between versions come from the model, not from sampling noise.
    rng = np.random.default_rng(zlib.crc32(model.name.encode()))
    draws = sample(model.hyperparameters, rng).astype(np.float64)
    point = draws.mean(axis=-1)[..., None]
    low, high = (q[..., None] for q in np.quantile(draws, [0.05, 0.95], axis=-1))
    crps = mean_cross_distance(draws, outcomes) - mean_pairwise_distance(draws) / 2.0
    scores = {
        "MSE": ((point - outcomes) ** 2).mean(axis=(1, 2)),
        "MSLE": ((np.log1p(point) - np.log1p(outcomes)) ** 2).mean(axis=(1, 2)),
        "CRPS": crps.mean(axis=1),
        "coverage": ((low <= outcomes) & (outcomes <= high)).mean(axis=(1, 2)),
    }
    return [
        {
            "model": model.name,
            "target": target,
            "metric": metric,
            "step": step,
            "value": round(float(values[step - 1]), 6),
        }
        for target in model.targets
        for metric, values in scores.items()
        for step in range(1, STEPS + 1)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the artefacts")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    country_ids = load_country_ids()
    outcomes = simulated_outcomes()
    metrics: list[dict[str, object]] = []
    for model in load_models():
        if model.status not in ACTIVE_STATUSES:
            continue
        table = predictions_table(model, country_ids)
        pq.write_table(table, out / f"predictions_{model.name}.parquet", compression="zstd")
        metrics.extend(backtest(model, outcomes))
    if not metrics:
        raise SystemExit("no active model under models/: nothing to forecast")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    summary = {
        "models": sorted({str(row["model"]) for row in metrics}),
        "countries": len(country_ids),
        "first_month": FIRST_MONTH,
        "steps": STEPS,
        "draws": N_DRAWS,
    }
    (out / "run_summary.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
