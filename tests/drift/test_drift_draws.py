"""Per-cell draws comparison against scipy looped over cells."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from monitoring.drift import DriftConfig, compare_draws

TOL = 1e-9


def loop_scipy(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    units, steps = a.shape[:2]
    out = {k: np.full((units, steps), np.nan) for k in ("d", "p", "w1n", "mean", "width")}
    for u in range(units):
        for s in range(steps):
            x, y = a[u, s], b[u, s]
            x, y = x[np.isfinite(x)], y[np.isfinite(y)]
            if not (x.size and y.size):
                continue
            ks = stats.ks_2samp(x, y)
            out["d"][u, s], out["p"][u, s] = ks.statistic, ks.pvalue
            x64, y64 = x.astype(np.float64), y.astype(np.float64)
            out["w1n"][u, s] = stats.wasserstein_distance(x64, y64) / max(np.std(x64), 1e-3)
            out["mean"][u, s] = y64.mean() - x64.mean()
            qx, qy = np.quantile(x64, [0.05, 0.95]), np.quantile(y64, [0.05, 0.95])
            out["width"][u, s] = (qy[1] - qy[0]) - (qx[1] - qx[0])
    return out


def check(a: np.ndarray, b: np.ndarray, config: DriftConfig | None = None) -> None:
    r = compare_draws(a, b, config or DriftConfig(cell_chunk=7, threads=2))
    ref = loop_scipy(a, b)
    np.testing.assert_allclose(r.ks_statistic, ref["d"], rtol=0, atol=TOL)
    np.testing.assert_allclose(r.ks_p_value, ref["p"], rtol=0, atol=TOL)
    np.testing.assert_allclose(r.w1_normed, ref["w1n"], rtol=TOL, atol=TOL)
    np.testing.assert_allclose(r.mean_change, ref["mean"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(r.width_change, ref["width"], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_counts_with_zeros_equal_draws(dtype: type) -> None:
    rng = np.random.default_rng(1)
    a = rng.poisson(0.8, size=(9, 5, 64)).astype(dtype)
    b = rng.poisson(1.0, size=(9, 5, 64)).astype(dtype)
    a[2, 3] = 0
    b[2, 3] = 0  # all-zero cell on both sides
    a[4, 0] = 0  # all-zero production, non-zero candidate: floored std
    check(a, b)


def test_unequal_draw_counts_and_heavy_tails() -> None:
    rng = np.random.default_rng(2)
    a = np.log1p(rng.pareto(1.1, size=(6, 4, 48))).astype(np.float32)
    b = np.log1p(rng.pareto(1.0, size=(6, 4, 80))).astype(np.float32)
    check(a, b)


def test_negative_zero_ties_with_zero() -> None:
    a = np.array([[[-0.0, 1.0, 2.0, 0.0]]], dtype=np.float32)
    b = np.array([[[0.0, 0.0, -0.0, 3.0]]], dtype=np.float32)
    check(a, b, DriftConfig(threads=1))


def test_nonfinite_cells_go_through_slow_path() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 3, 20))
    b = rng.normal(0.5, 1, size=(4, 3, 25))
    a[1, 1, :5] = np.nan
    b[2, 0, 3] = np.inf
    a[3, 2, :] = np.nan  # nothing left: untested
    r = compare_draws(a, b)
    check(a, b)
    assert r.dropped == {"production": 25, "candidate": 1}
    assert np.isnan(r.ks_p_value[3, 2]) and not r.drifted[3, 2]


def test_exact_asymptotic_switch_per_cell() -> None:
    # equal tiny samples where scipy's exact sum rounds above 1 and it falls back
    a = np.zeros((1, 1, 7))
    b = np.zeros((1, 1, 7))
    b[0, 0, -1] = 1.0
    check(a, b, DriftConfig(threads=1))


def test_rollups_and_verdicts() -> None:
    rng = np.random.default_rng(4)
    a = rng.normal(size=(30, 6, 128)).astype(np.float32)
    b = rng.normal(size=(30, 6, 128)).astype(np.float32)
    b[:5, 3:] += 2.0  # five units drift in the later steps
    r = compare_draws(a, b, unit_ids=np.arange(1000, 1030), first_month=500)
    roll = r.rollups(top=5)
    assert {u["unit"] for u in roll["top_units"]} == set(range(1000, 1005))
    assert [s["month"] for s in roll["by_step"]] == list(range(500, 506))
    assert roll["by_step"][4]["share_drifted"] == pytest.approx(5 / 30)
    assert roll["by_step"][0]["share_drifted"] == 0.0
    assert r.drifted[:5, 3:].all() and r.drifted.sum() == 15
    d = r.to_dict()
    assert d["drifted"] == 15 and d["conventions"]["verdict"]["alpha"] == 0.05


def test_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="units, steps"):
        compare_draws(np.zeros((2, 3, 4)), np.zeros((2, 2, 4)))
