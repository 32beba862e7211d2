"""The `skill` check kind: candidate against production and naive forecasts, with floors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monitoring.validation.kinds import JudgeContext
from monitoring.validation.manifest import ManifestError, parse_manifest

UNITS = np.arange(1, 31)
ORIGINS = np.arange(500, 512)  # twelve forecast origins
STEPS = 3
MANIFEST = """\
[[check]]
name = "backtest"
kind = "skill"
run = "python backtest.py --out {artifacts}"
predictions = "{artifacts}/predictions_*.parquet"
outcomes = "{artifacts}/outcomes.parquet"
unit = "country_id"
FLOORS
"""


def truth(seed: int = 0) -> dict[tuple[int, int], float]:
    rng = np.random.default_rng(seed)
    rates = rng.gamma(1.0, 8.0, len(UNITS))
    months = range(ORIGINS[0] - 1, ORIGINS[-1] + STEPS)
    return {
        (int(u), m): float(rng.poisson(rates[i]) if rng.random() < 0.6 else 0)
        for m in months
        for i, u in enumerate(UNITS)
    }


def write_forecasts(path: Path, observed: dict, *, scale: float, seed: int) -> None:
    """Draws around each cell's outcome (scale 1: sharp and right; larger: worse)."""
    rng = np.random.default_rng(seed)
    rows = {"country_id": [], "month_id": [], "step": [], "pred_lr_ged_sb": []}
    for origin in ORIGINS:
        for step in range(1, STEPS + 1):
            month = int(origin + step - 1)
            for unit in UNITS:
                y = observed[(int(unit), month)]
                rows["country_id"].append(int(unit))
                rows["month_id"].append(month)
                rows["step"].append(step)
                rows["pred_lr_ged_sb"].append(
                    (rng.poisson(y * scale + 0.5, 40)).astype(np.float32).tolist()
                )
    table = pa.table(
        {
            "country_id": pa.array(rows["country_id"], pa.int32()),
            "month_id": pa.array(rows["month_id"], pa.int32()),
            "step": pa.array(rows["step"], pa.int16()),
            "pred_lr_ged_sb": pa.array(rows["pred_lr_ged_sb"], pa.list_(pa.float32())),
        }
    )
    pq.write_table(table, path)


def write_outcomes(path: Path, observed: dict) -> None:
    items = sorted(observed.items())
    pq.write_table(
        pa.table(
            {
                "country_id": [u for (u, _), _ in items],
                "month_id": [m for (_, m), _ in items],
                "lr_ged_sb": [v for _, v in items],
            }
        ),
        path,
    )


def judge(tmp_path: Path, *, candidate: float, production: float | None, floors: str = ""):
    observed = truth()
    mine = tmp_path / "candidate"
    theirs = tmp_path / "production"
    mine.mkdir()
    theirs.mkdir()
    write_forecasts(mine / "predictions_orange.parquet", observed, scale=candidate, seed=1)
    write_outcomes(mine / "outcomes.parquet", observed)
    baseline = None
    if production is not None:
        write_forecasts(theirs / "predictions_orange.parquet", observed, scale=production, seed=2)
        baseline = {"predictions_orange.parquet": theirs / "predictions_orange.parquet"}
    spec = parse_manifest(MANIFEST.replace("FLOORS", floors)).check("backtest")
    context = JudgeContext(
        worktree=tmp_path,
        folders={"backtest": mine},
        baseline_files=baseline,
        baseline_ref={"run": 1, "check": 2} if baseline else None,
        no_baseline_note="" if baseline else "no production baseline (a first release)",
    )
    from monitoring.validation.kinds.skill import SKILL

    return SKILL.judge(spec, context)


def test_a_candidate_like_production_passes_with_intervals_per_step(tmp_path):
    outcome = judge(tmp_path, candidate=1.0, production=1.0)
    assert outcome.status == "passed", outcome.summary
    entry = outcome.details["compared"]["predictions_orange.parquet:pred_lr_ged_sb"]
    assert set(entry["against"]) == {"production", "zeros", "last"}
    crps = entry["against"]["production"]["CRPS"]
    assert len(crps["steps"]) == STEPS
    for step in crps["steps"]:
        assert step["months"] == len(ORIGINS) and step["cells"] == len(ORIGINS) * len(UNITS)
        assert step["low"] <= step["difference"] <= step["high"]
        assert step["test"].startswith("Diebold-Mariano (HLN)")
    # Far better than forecasting no fatality anywhere.
    assert entry["against"]["zeros"]["CRPS"]["verdict"] == "better"
    assert outcome.details["baseline"] == {"run": 1, "check": 2}
    assert [a["path"] for a in outcome.artifacts] == ["predictions_orange.parquet"]


def test_a_candidate_worse_than_production_fails(tmp_path):
    outcome = judge(tmp_path, candidate=3.0, production=1.0)
    assert outcome.status == "failed"
    assert outcome.summary.startswith("worse than production: CRPS of predictions_orange")
    entry = outcome.details["compared"]["predictions_orange.parquet:pred_lr_ged_sb"]
    assert entry["against"]["production"]["CRPS"]["verdict"] == "worse"


def test_a_broken_floor_fails_even_without_production(tmp_path):
    floors = 'floors = [{ metric = "MSLE", beat = "zeros" }]'
    outcome = judge(tmp_path, candidate=40.0, production=None, floors=floors)
    assert outcome.status == "failed"
    assert "floor broken: MSLE of predictions_orange.parquet:pred_lr_ged_sb must beat zeros" in (
        outcome.summary
    )
    (floor,) = outcome.details["floors"]
    assert floor["held"] is False
    (tmp_path / "again").mkdir()
    good = judge(tmp_path / "again", candidate=1.0, production=None, floors=floors)
    assert good.status == "passed" and good.details["floors"][0]["held"] is True
    assert good.summary.startswith("no production baseline (a first release); ")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('floors = [{ metric = "MSLE", beat = "yesterday" }]', "beat must be one of"),
        ('scores = ["RMSE"]', "unknown score"),
        ("alpha = 2", "between 0 and 1"),
    ],
)
def test_the_manifest_refuses_bad_fields(line, problem):
    with pytest.raises(ManifestError, match=problem):
        parse_manifest(MANIFEST.replace("FLOORS", line))


def test_without_an_outcomes_field_the_manifest_says_so():
    text = MANIFEST.replace('outcomes = "{artifacts}/outcomes.parquet"\n', "")
    with pytest.raises(ManifestError, match="outcomes"):
        parse_manifest(text.replace("FLOORS", ""))
