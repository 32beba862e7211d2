from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from monitoring.validation.manifest import ColumnRule
from monitoring.validation.outcome import sha256_file
from monitoring.validation.predictions import check_inference, is_count_target
from monitoring.validation.schema import check_schema, type_matches

FIRST = 530


def replace_column(table: pa.Table, name: str, array: pa.Array) -> pa.Table:
    return table.set_column(table.column_names.index(name), name, array)


def draws_column(rows: int, draws: int, values: np.ndarray | None = None) -> pa.Array:
    flat = values if values is not None else np.ones(rows * draws, dtype=np.float32)
    offsets = pa.array(np.arange(rows + 1, dtype=np.int32) * draws)
    return pa.ListArray.from_arrays(offsets, pa.array(flat, pa.float32()))


def infer(path: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    options: dict = {"unit": "country_id", "steps": 36}
    options.update(kwargs)
    return check_inference([path], **options)


def test_complete_draws_forecast_passes(write_parquet: Callable, forecast: Callable) -> None:
    path = write_parquet(forecast(units=190, draws=128, targets=("pred_lr_ged_sb", "pred_ln_x")))
    outcome = infer(path, first_month=FIRST)
    assert outcome.passed, outcome.summary
    report = outcome.details["files"][0]
    assert report["rows"] == 190 * 36 and report["units"] == 190 and report["months"] == 36
    assert report["draws"] == {"pred_lr_ged_sb": 128, "pred_ln_x": 128}
    assert outcome.artifacts[0]["sha256"] == sha256_file(path)
    assert outcome.artifacts[0]["rows"] == 190 * 36
    assert "190 country_id x 36 months (530-565)" in outcome.summary


def test_point_forecast_in_csv_passes(tmp_path: Path, forecast: Callable) -> None:
    path = tmp_path / "preds.csv"
    pcsv.write_csv(forecast(draws=None), path)
    outcome = check_inference([path], unit="country_id", steps=36)
    assert outcome.passed, outcome.summary
    assert outcome.details["files"][0]["draws"] == {"pred_lr_ged_sb": 1}


def test_missing_unit_month_is_named(write_parquet: Callable, forecast: Callable) -> None:
    table = forecast(units=5)
    keep = ~((np.asarray(table["month_id"]) == FIRST + 2) & (np.asarray(table["country_id"]) == 6))
    outcome = infer(write_parquet(table.filter(pa.array(keep))))
    assert not outcome.passed and outcome.status == "failed"
    assert "country_id 6 is missing for month_id 532 (step 3)" in outcome.summary


def test_duplicates_gaps_and_wrong_length(write_parquet: Callable, forecast: Callable) -> None:
    table = forecast(units=4)
    doubled = pa.concat_tables([table, table.slice(0, 1)])
    assert "appear more than once" in infer(write_parquet(doubled, "d.parquet")).summary

    months = np.asarray(table["month_id"])
    gap = table.filter(pa.array(months != FIRST + 10))
    outcome = infer(write_parquet(gap, "g.parquet"))
    assert "month_id 540 (step 11)" in outcome.summary

    assert "outside the 35 steps" in infer(write_parquet(table, "t.parquet"), steps=35).summary
    late = infer(write_parquet(table, "l.parquet"), first_month=FIRST - 1)
    assert not late.passed and "the manifest declares 529" in " ".join(late.details["problems"])


def test_nan_inside_draws_is_found(write_parquet: Callable, forecast: Callable) -> None:
    table = forecast(units=3, draws=64)
    values = np.ones(3 * 36 * 64, dtype=np.float32)
    values[64 * 7 + 5] = np.nan  # row 7: month 532, the second unit
    values[64 * 8 + 1] = np.inf
    table = replace_column(table, "pred_lr_ged_sb", draws_column(108, 64, values))
    outcome = infer(write_parquet(table))
    assert not outcome.passed
    assert "2 NaN or infinite value(s) in 2 row(s): country_id 6, month_id 532" in outcome.summary


def test_negative_count_and_ragged_draws(write_parquet: Callable, forecast: Callable) -> None:
    table = forecast(units=3, draws=16)
    values = np.ones(108 * 16, dtype=np.float32)
    values[3] = -0.5
    table = replace_column(table, "pred_lr_ged_sb", draws_column(108, 16, values))
    outcome = infer(write_parquet(table, "neg.parquet"))
    assert "negative value(s) in a count target (lowest -0.5)" in outcome.summary
    # Not a count target when the manifest says so.
    assert infer(write_parquet(table, "neg2.parquet"), count_targets=False).passed
    # ... or when its pattern does not match the column.
    assert infer(write_parquet(table, "neg3.parquet"), count_targets="^pred_ln_").passed
    assert not infer(write_parquet(table, "neg4.parquet"), count_targets="_sb$").passed

    lengths = np.full(108, 16)
    lengths[10] = 15
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    ragged = pa.ListArray.from_arrays(
        pa.array(offsets), pa.array(np.ones(offsets[-1], dtype=np.float32))
    )
    table = replace_column(table, "pred_lr_ged_sb", ragged)
    outcome = infer(write_parquet(table, "ragged.parquet"))
    assert "draws per row differ (15, 16)" in outcome.summary
    assert "country_id 6, month_id 533 has 15" in outcome.summary


def test_null_rows_and_unreadable_files(
    tmp_path: Path, write_parquet: Callable, forecast: Callable
) -> None:
    table = forecast(units=2, draws=None)
    values = np.ones(72)
    table = replace_column(
        table, "pred_lr_ged_sb", pa.array(values, mask=np.arange(72) == 4, type=pa.float64())
    )
    outcome = infer(write_parquet(table))
    assert "null row(s)" in outcome.summary
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"not parquet at all")
    outcome = check_inference([bad], unit="country_id", steps=36)
    assert outcome.status == "failed" and "cannot read" in outcome.summary
    assert check_inference([], unit="country_id", steps=36).status == "failed"


def test_priogrid_scale_is_vectorised(write_parquet: Callable, forecast: Callable) -> None:
    # 471,960 rows: a Python loop over rows would take far longer than this allows.
    path = write_parquet(forecast(units=13_110, draws=16, unit="priogrid_id"))
    import time

    started = time.monotonic()
    outcome = check_inference([path], unit="priogrid_id", steps=36)
    assert outcome.passed, outcome.summary
    assert time.monotonic() - started < 10


def test_count_target_names() -> None:
    assert is_count_target("pred_ln_ged_sb") and is_count_target("pred_lr_ged_sb")
    assert not is_count_target("pred_prob_conflict") and not is_count_target("month_id")
    # VIEWS's target names (views-models' config_meta.py: lr_ged_sb, lr_sb_best, by_sb_best).
    assert is_count_target("pred_lr_sb_best") and is_count_target("pred_by_sb_best")
    assert is_count_target("pred_ln_sb_best") and not is_count_target("pred_lrx_sb")


# --- schema -------------------------------------------------------------------------------


def test_types() -> None:
    assert type_matches("list<float32>", pa.list_(pa.float32()))
    assert type_matches("list<float32>", pa.large_list(pa.float32()))
    assert not type_matches("list<float32>", pa.list_(pa.float64()))
    assert not type_matches("float32", pa.list_(pa.float32()))
    assert type_matches("float", pa.float64()) and type_matches("number", pa.int32())
    assert type_matches("string", pa.string()) and not type_matches("int64", pa.int32())


def test_schema_passes_and_records(write_parquet: Callable, forecast: Callable) -> None:
    path = write_parquet(forecast(units=10, draws=32))
    rules = (
        ColumnRule(
            "pred_lr_ged_sb",
            type="list<float32>",
            max_missing=0.0,
            max_zero=0.5,
            max_zero_month=0.5,
            min=0.0,
        ),
        ColumnRule("month_id", type="int64"),
        ColumnRule("country_id", type="int"),
    )
    outcome = check_schema([path], columns=rules, extreme_sd=50)
    assert outcome.passed, outcome.summary
    stats = outcome.details["files"][0]["columns"]["pred_lr_ged_sb"]
    assert stats["values"] == 10 * 36 * 32 and stats["missing_share"] == 0.0
    assert outcome.artifacts[0]["sha256"] == sha256_file(path)


def test_schema_failures(write_parquet: Callable, forecast: Callable) -> None:
    table = forecast(units=10, draws=8)
    values = np.ones(360 * 8, dtype=np.float32)
    values[:80] = 0.0  # the first month (10 rows x 8 draws) is all zeros
    values[100:110] = np.nan
    values[500] = 1e6
    table = replace_column(table, "pred_lr_ged_sb", draws_column(360, 8, values))
    path = write_parquet(table)
    rules = (
        ColumnRule(
            "pred_lr_ged_sb",
            type="list<float64>",
            max_missing=0.001,
            max_zero=0.5,
            max_zero_month=0.5,
        ),
        ColumnRule("pred_other", required=True),
        ColumnRule("pred_optional", required=False),
    )
    outcome = check_schema([path], columns=rules, extreme_sd=10)
    problems = " | ".join(outcome.details["problems"])
    assert not outcome.passed
    assert "type is list<float32>, expected list<float64>" in problems
    assert "pred_other: column missing" in problems and "pred_optional" not in problems
    assert "0.3% missing (10 of 2,880), at most 0.1%" in problems
    assert "zero share above 50.0% in 1 month(s): month_id 530: 100.0%" in problems
    assert "1 value(s) beyond 10 SD" in problems


def test_missing_share_per_month_counts_null_lists(
    write_parquet: Callable, forecast: Callable
) -> None:
    table = forecast(units=4, draws=4)
    offsets = pa.array(np.arange(145, dtype=np.int32) * 4)
    mask = pa.array(np.arange(144) == 143)  # the last unit of the last month
    column = pa.ListArray.from_arrays(offsets, pa.array(np.ones(576, np.float32)), mask=mask)
    table = replace_column(table, "pred_lr_ged_sb", column)
    path = write_parquet(table)
    limit = ColumnRule("pred_lr_ged_sb", max_missing_month=0.2)
    outcome = check_schema([path], columns=(limit,))
    # The last month has 3 x 4 draws and one null list: 1 missing value of 13.
    assert outcome.passed, outcome.summary
    strict = ColumnRule("pred_lr_ged_sb", max_missing_month=0.05)
    outcome = check_schema([path], columns=(strict,))
    assert "month_id 565: 7.7%" in outcome.summary


def test_schema_on_csv_features(tmp_path: Path) -> None:
    path = tmp_path / "features.csv"
    table = pa.table(
        {"month_id": [1, 1, 2, 2], "gdp": [1.0, None, 3.0, 4.0], "name": ["a", None, None, "d"]}
    )
    pcsv.write_csv(table, path)
    outcome = check_schema(
        [path],
        columns=(
            ColumnRule("gdp", type="float64", max_missing=0.2),
            ColumnRule("name", type="string", max_missing=0.5),
        ),
    )
    assert not outcome.passed and "gdp: 25.0% missing" in outcome.summary
    assert len(outcome.details["problems"]) == 1


@pytest.mark.parametrize("rows", [0])
def test_empty_file(tmp_path: Path, rows: int) -> None:
    path = tmp_path / "empty.parquet"
    pq.write_table(
        pa.table(
            {
                "month_id": pa.array([], pa.int64()),
                "country_id": pa.array([], pa.int64()),
                "pred_x": pa.array([], pa.float64()),
            }
        ),
        path,
    )
    assert "no rows" in check_inference([path], unit="country_id", steps=36).summary
