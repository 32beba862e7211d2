"""compare_files on parquet and CSV, list columns, profiles, and input errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from scipy import stats

from monitoring.drift import (
    DriftConfig,
    DriftInputError,
    ReferenceProfile,
    compare_files,
    compare_profile,
    profile_file,
)

UNITS, MONTHS, DRAWS = 6, 4, 32


def frame(seed: int, shift: float, rows_nan: bool = False) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = UNITS * MONTHS
    draws = rng.poisson(1 + shift, size=(n, DRAWS)).astype(np.float32)
    x = rng.normal(shift, 1, n)
    if rows_nan:
        x[:3] = [np.nan, np.inf, -np.inf]
    return pa.table(
        {
            "country_id": np.repeat(np.arange(UNITS) + 100, MONTHS),
            "month_id": np.tile(np.arange(MONTHS) + 500, UNITS),
            "pred_ged_sb": pa.array(list(draws), type=pa.list_(pa.float32())),
            "x": x,
            "count": rng.poisson(0.5 + shift, n),
            "region": rng.choice(["africa", "asia"] + (["europe"] if shift else []), n),
        }
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    ref, cur = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    # shuffled rows and small row groups: the reader must not rely on order or one batch
    t = frame(0, 0.0, rows_nan=True)
    pq.write_table(t.take(np.random.default_rng(5).permutation(t.num_rows)), ref, row_group_size=5)
    pq.write_table(frame(1, 1.0), cur, row_group_size=7)
    return ref, cur


def test_report_shape_and_parity(files: tuple[Path, Path]) -> None:
    ref_path, cur_path = files
    report = compare_files(ref_path, cur_path, config=DriftConfig(batch_rows=4))
    json.dumps(report, allow_nan=False)
    cols = report["columns"]
    assert set(cols) == {"pred_ged_sb", "x", "count", "region"}
    assert cols["x"]["kind"] == "numeric" and cols["region"]["kind"] == "categorical"
    assert set(cols["x"]["tests"]) == {"ks", "wasserstein_normed", "psi", "jensen_shannon"}
    assert set(cols["region"]["tests"]) == {"chi_square", "jensen_shannon"}
    assert cols["x"]["dropped"] == {"reference": 3, "current": 0}

    ref, cur = pq.read_table(ref_path), pq.read_table(cur_path)
    rx = ref["x"].to_numpy()
    rx = rx[np.isfinite(rx)]
    ks = stats.ks_2samp(rx, cur["x"].to_numpy())
    assert cols["x"]["tests"]["ks"]["p_value"] == pytest.approx(ks.pvalue, abs=1e-9)

    flat_ref = np.concatenate(ref["pred_ged_sb"].to_numpy(zero_copy_only=False))
    flat_cur = np.concatenate(cur["pred_ged_sb"].to_numpy(zero_copy_only=False))
    draws = cols["pred_ged_sb"]
    assert draws["kind"] == "draws" and draws["n_reference"] == flat_ref.size
    assert draws["tests"]["ks"]["p_value"] == pytest.approx(
        stats.ks_2samp(flat_ref, flat_cur).pvalue, abs=1e-9
    )
    cells = draws["cells"]
    assert cells["status"] == "ok" and cells["cells"] == UNITS * MONTHS
    assert [s["month"] for s in cells["by_step"]] == [500, 501, 502, 503]

    assert cells["tested"] == UNITS * MONTHS
    assert cols["region"]["unseen_categories"]["values"].keys() == {"europe"}

    s = report["summary"]
    assert s["columns"] == 4 and s["method"] == "benjamini-hochberg"
    assert s["drifted"] == sum(c["drifted"] for c in cols.values())


def test_csv_and_profile_round_trip(tmp_path: Path, files: tuple[Path, Path]) -> None:
    ref_path, cur_path = files
    ref_csv, cur_csv = tmp_path / "ref.csv", tmp_path / "cur.csv"
    for src, dst in ((ref_path, ref_csv), (cur_path, cur_csv)):
        pacsv.write_csv(pq.read_table(src).drop_columns(["pred_ged_sb"]), dst)
    from_csv = compare_files(ref_csv, cur_csv, columns=["x", "count", "region"])
    from_parquet = compare_files(ref_path, cur_path, columns=["x", "count", "region"])
    for c in ("x", "count", "region"):
        assert from_csv["columns"][c]["tests"] == from_parquet["columns"][c]["tests"]

    profile = profile_file(ref_path)
    restored = ReferenceProfile.from_bytes(profile.to_bytes())
    again = compare_profile(restored, cur_path)
    direct = compare_files(ref_path, cur_path)
    for c in direct["columns"]:
        assert again["columns"][c]["tests"] == direct["columns"][c]["tests"]
        assert again["columns"][c]["drifted"] == direct["columns"][c]["drifted"]


def test_input_errors_name_the_culprit(tmp_path: Path, files: tuple[Path, Path]) -> None:
    ref_path, cur_path = files
    with pytest.raises(DriftInputError, match="nope.parquet"):
        compare_files(tmp_path / "nope.parquet", cur_path)
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not a parquet file")
    with pytest.raises(DriftInputError, match="bad.parquet"):
        compare_files(ref_path, bad)
    with pytest.raises(DriftInputError, match="'ghost'"):
        compare_files(ref_path, cur_path, columns=["x", "ghost"])


def test_draws_without_keys_are_pooled_only(tmp_path: Path) -> None:
    t = frame(0, 0.0).drop_columns(["country_id"])
    pq.write_table(t, tmp_path / "a.parquet")
    pq.write_table(frame(1, 0.5).drop_columns(["country_id"]), tmp_path / "b.parquet")
    r = compare_files(tmp_path / "a.parquet", tmp_path / "b.parquet", columns=["pred_ged_sb"])
    assert r["columns"]["pred_ged_sb"]["cells"]["status"] == "skipped"
    assert "unit id" in r["columns"]["pred_ged_sb"]["cells"]["reason"]
