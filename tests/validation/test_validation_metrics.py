from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from monitoring.validation.metrics import (
    MetricRow,
    MetricsError,
    check_performance,
    direction_text,
    load_metrics,
    metric_direction,
    worse_by,
)


def rows(*items: tuple[str, int | None, float]) -> list[MetricRow]:
    return [
        MetricRow("purple_alien", "ged_sb", metric, step, value) for metric, step, value in items
    ]


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("MSE", "lower"),
        ("msle", "lower"),
        ("CRPS", "lower"),
        ("brier-score", "lower"),
        ("MIS", "lower"),
        ("log_loss", "lower"),
        ("crps_sb", "lower"),
        ("AP", "higher"),
        ("coverage_90", "target=0.9"),
        ("Coverage", "target=0.9"),
        ("MCR_point", "target=1"),
        ("MCR_sample", "target=1"),
        ("y_hat_bar", "none"),
        ("RMSLE", "lower"),
        ("twCRPS", "lower"),
        ("QS_sample", "lower"),
        ("QIS", "lower"),
        ("Brier_rgs_sample", "lower"),
        ("MTD", "lower"),
        ("EMD", "lower"),
        ("Ignorance", "lower"),
        ("Pearson", "higher"),
        ("roc_auc", "higher"),
        ("R2", "higher"),
        ("wobble", None),
    ],
)
def test_directions(name: str, direction: str | None) -> None:
    assert metric_direction(name) == direction


def test_direction_overrides() -> None:
    assert metric_direction("wobble", {"wobble": "higher"}) == "higher"
    assert metric_direction("MSE", {"mse": "higher"}) == "higher"


def test_load_json_csv_parquet(tmp_path: Path) -> None:
    records = [
        {"model": "m", "target": "t", "metric": "mse", "step": 1, "value": 0.5},
        {"model": "m", "target": "t", "metric": "crps", "step": None, "value": 0.25},
    ]
    (tmp_path / "m.json").write_text(json.dumps(records))
    table = pa.Table.from_pylist(records)
    pcsv.write_csv(table, tmp_path / "m.csv")
    pq.write_table(table, tmp_path / "m.parquet")
    for name in ("m.json", "m.csv", "m.parquet"):
        loaded = load_metrics(tmp_path / name)
        assert [r.key for r in loaded] == [("m", "t", "mse", 1), ("m", "t", "crps", None)], name
        assert [r.value for r in loaded] == [0.5, 0.25]


def test_bad_metrics_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"mse": 1}')
    (tmp_path / "b.json").write_text('[{"model": "m", "target": "t", "metric": "mse"}]')
    (tmp_path / "c.json").write_text(
        '[{"model": "m", "target": "t", "metric": "mse", "value": "high"}]'
    )
    (tmp_path / "d.json").write_text("[{")
    with pytest.raises(MetricsError, match="list of objects"):
        load_metrics(tmp_path / "a.json")
    with pytest.raises(MetricsError, match="b.json, row 1: missing value"):
        load_metrics(tmp_path / "b.json")
    with pytest.raises(MetricsError, match="not a number"):
        load_metrics(tmp_path / "c.json")
    with pytest.raises(MetricsError, match="not readable"):
        load_metrics(tmp_path / "d.json")


def test_no_baseline_passes_and_says_so() -> None:
    outcome = check_performance(rows(("mse", 1, 0.5)), None, tolerance=0.01)
    assert outcome.passed and "no production baseline" in outcome.summary


def test_within_tolerance_and_improvements_pass() -> None:
    base = rows(("mse", 1, 1.0), ("ap", 1, 0.5), ("crps", None, 2.0))
    cand = rows(("mse", 1, 1.009), ("ap", 1, 0.7), ("crps", None, 1.0))
    outcome = check_performance(cand, base, tolerance=0.01)
    assert outcome.passed, outcome.summary
    assert "3 metric(s) within tolerance" in outcome.summary and "2 improved" in outcome.summary


def test_regressions_in_either_direction_fail() -> None:
    base = rows(("mse", 1, 1.0), ("ap", 2, 0.5))
    cand = rows(("mse", 1, 1.02), ("ap", 2, 0.49))
    outcome = check_performance(cand, base, tolerance=0.01)
    assert not outcome.passed
    assert len(outcome.details["regressions"]) == 2
    assert "purple_alien/ged_sb/mse (step 1): 1.02 vs production 1 (+2.00% worse" in outcome.summary


def test_zero_baseline_uses_the_absolute_tolerance() -> None:
    base = rows(("mse", 1, 0.0))
    assert not check_performance(rows(("mse", 1, 0.001)), base, tolerance=0.5).passed
    assert check_performance(
        rows(("mse", 1, 0.001)), base, tolerance=0.5, abs_tolerance=0.01
    ).passed
    assert check_performance(rows(("mse", 1, 0.0)), base, tolerance=0.0).passed


def test_missing_fail_new_are_reported() -> None:
    base = rows(("mse", 1, 1.0), ("mse", 2, 1.0))
    cand = rows(("mse", 1, 1.0), ("crps", 1, 3.0))
    outcome = check_performance(cand, base, tolerance=0.01)
    assert not outcome.passed
    assert "1 metric(s) missing: purple_alien/ged_sb/mse (step 2)" in outcome.summary
    assert outcome.details["new"] == ["purple_alien/ged_sb/crps (step 1)"]
    only_new = check_performance(rows(("mse", 1, 1.0), ("crps", 1, 3.0)), rows(("mse", 1, 1.0)))
    assert only_new.passed and "1 new metric(s)" in only_new.summary


def test_unknown_direction_and_nan_fail() -> None:
    base = rows(("wobble", 1, 1.0), ("mse", 1, 1.0))
    outcome = check_performance(rows(("wobble", 1, 1.0), ("mse", 1, 1.0)), base)
    assert not outcome.passed and 'directions = { wobble = "lower" }' in outcome.summary
    assert check_performance(
        rows(("wobble", 1, 2.0)), rows(("wobble", 1, 1.0)), directions={"wobble": "higher"}
    ).passed
    nan = check_performance(rows(("mse", 1, float("nan"))), rows(("mse", 1, 1.0)))
    assert not nan.passed and "regression" in nan.summary
    assert not check_performance(rows(("mse", 1, float("nan"))), None).passed


def test_duplicates_and_empty_fail() -> None:
    assert "more than once" in check_performance(rows(("mse", 1, 1), ("mse", 1, 2)), None).summary
    assert not check_performance([], None).passed


def test_target_metrics_are_worse_farther_from_their_target() -> None:
    # Coverage of a 90% interval: 0.93 after 0.95 is closer to 0.9, an improvement.
    closer = check_performance(rows(("Coverage", 1, 0.93)), rows(("Coverage", 1, 0.95)))
    assert closer.passed and "(1 improved)" in closer.summary
    # 0.86 after 0.89 is farther below: a regression, said in the metric's own terms.
    farther = check_performance(
        rows(("Coverage", 1, 0.86)), rows(("Coverage", 1, 0.89)), tolerance=0.01
    )
    assert not farther.passed
    assert "Coverage (step 1): 0.86 vs production 0.89" in farther.summary
    assert "best at 0.9" in farther.summary
    # MCR (mean forecast / mean outcome) is best at 1, from either side.
    assert not check_performance(rows(("MCR_point", 1, 1.2)), rows(("MCR_point", 1, 0.95))).passed
    assert check_performance(rows(("MCR_point", 1, 0.97)), rows(("MCR_point", 1, 1.05))).passed


def test_informational_metrics_are_reported_not_compared() -> None:
    outcome = check_performance(rows(("y_hat_bar", 1, 9.0)), rows(("y_hat_bar", 1, 1.0)))
    assert outcome.passed
    assert outcome.details["comparisons"][0]["status"] == "not compared"


def test_the_manifest_sets_a_target_or_switches_comparison_off() -> None:
    assert metric_direction("Coverage", {"Coverage": 0.95}) == "target=0.95"
    assert metric_direction("coverage", {"Coverage": "none"}) == "none"
    assert metric_direction("Coverage", {"coverage": "higher"}) == "higher"
    strict = check_performance(
        rows(("Coverage", 1, 0.93)), rows(("Coverage", 1, 0.95)), directions={"Coverage": 0.95}
    )
    assert not strict.passed and "best at 0.95" in strict.summary


def test_worse_by_and_its_words() -> None:
    assert worse_by("lower", 2.0, 1.0) == 1.0
    assert worse_by("higher", 2.0, 1.0) == -1.0
    assert worse_by("target=1", 0.8, 1.1) == pytest.approx(0.1)
    assert worse_by("none", 2.0, 1.0) is None and worse_by("", 2.0, 1.0) is None
    assert [direction_text(d) for d in ("lower", "target=0.9", "none", "")] == [
        "lower is better",
        "best at 0.9",
        "reported, not compared",
        "direction unknown",
    ]
