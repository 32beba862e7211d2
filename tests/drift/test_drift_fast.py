"""The fast paths of ``drift compare`` on parquet equal scipy and the streamed path.

- ``sorted_ks_statistic`` (bound-and-refine search, no merge) and ``sorted_wasserstein``
  (quantile integral) against ``ks_2samp`` / ``wasserstein_distance``;
- ``kstwo_sf`` (the asymptotic KS p-value without scipy.stats) against ``kstwo.sf``;
- ``compare_files`` on parquet (column-wise threaded reads) against the same files as CSV
  (the streamed path), including nulls, NaN, ±inf and a categorical column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from scipy import stats

from monitoring.drift import DriftConfig, compare_files
from monitoring.drift.ks import _kstwo_sf_one, kstwo_sf
from monitoring.drift.numeric import sorted_ks_statistic, sorted_wasserstein


def _samples(rng: np.random.Generator, kind: int, na: int, nb: int) -> tuple[np.ndarray, ...]:
    if kind == 0:
        return rng.normal(size=na), rng.normal(rng.choice([0.0, 0.01, 0.3]), size=nb)
    if kind == 1:  # heavy ties shared by both sides
        return rng.integers(0, 5, na).astype(float), rng.integers(0, 6, nb).astype(float)
    if kind == 2:  # zero-inflated, rounded
        a = np.where(rng.random(na) < 0.6, 0, np.round(rng.exponential(size=na), 2))
        b = np.where(rng.random(nb) < 0.5, 0, np.round(rng.exponential(size=nb), 2))
        return a, b
    return rng.normal(size=na).astype(np.float32), rng.normal(size=nb).astype(np.float32)


@pytest.mark.parametrize("seed", range(6))
def test_sorted_ks_and_w1_match_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for trial in range(40):
        na, nb = (int(n) for n in rng.integers(1, 2500 if trial % 8 else 30_000, 2))
        a, b = _samples(rng, trial % 4, na, nb)
        if trial % 7 == 0 and nb <= na:
            b = a[:nb].copy()  # identical values on both sides
        sa, sb = np.sort(a), np.sort(b)
        ks = stats.ks_2samp(a, b, method="asymp").statistic
        for block in (1, 3, 64):
            assert abs(sorted_ks_statistic(sa, sb, block) - ks) <= 1e-12
        assert abs(sorted_wasserstein(sa, sb) - stats.wasserstein_distance(a, b)) <= 1e-9


@pytest.mark.parametrize("n", [141, 5_000, 100_001, 500_000])
def test_kstwo_sf_matches_scipy(n: int) -> None:
    rng = np.random.default_rng(n)
    # scipy.special.smirnov (the 2.2 <= n*x**2 < 370 band) costs seconds a value at n=500,000
    # (the same for both: it is called there too); sample it only where it is quick.
    wide = 5 if n <= 5_000 else 1.4
    xs = np.concatenate(
        [rng.uniform(0, wide / np.sqrt(n), 120), [0.7 / n, 1 / n, 0.6, 30 / np.sqrt(n)]]
    )
    xs = np.array([x for x in xs if _kstwo_sf_one(n, x) is not None])  # scipy's matrix region
    assert xs.size > 60
    np.testing.assert_allclose(kstwo_sf(n, xs), stats.kstwo.sf(xs, n), rtol=0, atol=1e-12)


def test_kstwo_sf_leaves_the_matrix_region_to_scipy() -> None:
    x = np.array([0.0015])  # n * x**1.5 <= 1.4 with n <= 100,000: Durbin's matrix
    assert _kstwo_sf_one(20_000, 0.0015) is None
    np.testing.assert_allclose(kstwo_sf(20_000, x), stats.kstwo.sf(x, 20_000), atol=1e-12)


def test_parquet_fast_path_equals_streamed_path_and_scipy(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    tables = []
    for shift, n in ((0.0, 30_000), (0.3, 25_000)):
        x = rng.normal(shift, 1, n)
        x[:50] = np.nan
        x[50:60] = np.inf
        zeros = np.where(rng.random(n) < 0.6, 0.0, np.log1p(rng.lognormal(1 + shift, 1.5, n)))
        counts = rng.poisson(2 + shift, n).astype(np.int64)
        tables.append(
            pa.table(
                {
                    "x": x,
                    "zeros": zeros,
                    "counts": pa.array(counts, mask=rng.random(n) < 0.01),
                    "region": rng.choice(["a", "b", "c"], n),
                }
            )
        )
    for name, table in zip(("ref", "cur"), tables, strict=True):
        pq.write_table(table, tmp_path / f"{name}.parquet", row_group_size=7_000)
        pacsv.write_csv(table, tmp_path / f"{name}.csv")
    config = DriftConfig(threads=2)
    fast = compare_files(tmp_path / "ref.parquet", tmp_path / "cur.parquet", config=config)
    slow = compare_files(tmp_path / "ref.csv", tmp_path / "cur.csv", config=config)
    assert list(fast["columns"]) == ["x", "zeros", "counts", "region"]
    for name, result in fast["columns"].items():
        other = slow["columns"][name]
        assert result["status"] == other["status"]
        assert result["dropped"] == other["dropped"]
        assert result["drifted"] == other["drifted"]
        for test, values in result["tests"].items():
            for key, value in values.items():
                if isinstance(value, float):
                    assert value == pytest.approx(other["tests"][test][key], abs=1e-9)
    assert fast["summary"]["reference"]["rows"] == 30_000
    assert fast["summary"]["current"]["rows"] == 25_000
    assert fast["summary"]["drifted"] == slow["summary"]["drifted"]
    for name in ("x", "zeros"):
        a, b = tables[0][name].to_numpy(), tables[1][name].to_numpy()
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        ks = stats.ks_2samp(a, b)
        tests = fast["columns"][name]["tests"]
        assert tests["ks"]["statistic"] == pytest.approx(ks.statistic, abs=1e-9)
        assert tests["ks"]["p_value"] == pytest.approx(ks.pvalue, abs=1e-9)
        assert tests["wasserstein_normed"]["raw"] == pytest.approx(
            stats.wasserstein_distance(a, b), abs=1e-9
        )
