"""W1 (normalised), Jensen-Shannon, PSI and statuses of numeric columns against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from monitoring.drift import DriftConfig, compare_numeric, profile_numeric

TOL = 1e-9
rng = np.random.default_rng(99)

CASES = {
    "normal": (rng.normal(size=4000), rng.normal(0.3, 1.2, size=3000)),
    "poisson_zeros": (rng.poisson(0.4, 5000) * 1.0, rng.poisson(0.6, 5000) * 1.0),
    "pareto": (rng.pareto(1.3, 6000), rng.pareto(1.1, 4000)),
    "log1p_lognormal": (np.log1p(rng.lognormal(1, 2, 3000)), np.log1p(rng.lognormal(1.2, 2, 3500))),
    "float32": (
        rng.normal(size=2000).astype(np.float32),
        rng.normal(0.1, 1, size=2500).astype(np.float32),
    ),
    "negative_values": (rng.normal(-2, 1, 3000), rng.normal(-1.5, 1, 3000)),
}


def independent_bins(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Zero bin, then (e_i, e_i+1] bins of the non-zero values, per element."""
    nonzero = x[x != 0]
    idx = np.searchsorted(edges, nonzero, side="left")
    return np.concatenate(([np.sum(x == 0)], np.bincount(idx, minlength=edges.size + 1)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_parity(name: str) -> None:
    ref, cur = CASES[name]
    result = compare_numeric(ref, cur)
    t = result["tests"]
    ref64, cur64 = ref.astype(np.float64), cur.astype(np.float64)
    expected_w1 = stats.wasserstein_distance(ref64, cur64) / max(np.std(ref64), 1e-3)
    assert t["wasserstein_normed"]["value"] == pytest.approx(expected_w1, rel=TOL, abs=TOL)
    ks = stats.ks_2samp(ref, cur)
    assert t["ks"]["statistic"] == pytest.approx(ks.statistic, abs=TOL)
    assert t["ks"]["p_value"] == pytest.approx(ks.pvalue, abs=TOL)

    edges = np.array(result["conventions"]["psi"]["edges"])
    nonzero_ref = ref64[ref64 != 0]
    np.testing.assert_allclose(
        edges, np.unique(np.quantile(nonzero_ref, np.arange(1, 10) / 10)), rtol=1e-12
    )
    rc, cc = independent_bins(ref64, edges), independent_bins(cur64, edges)
    assert t["jensen_shannon"]["value"] == pytest.approx(jensenshannon(rc, cc), abs=TOL)
    rp, cp = rc / rc.sum(), cc / cc.sum()
    rp, cp = np.where(rc == 0, 1e-4, rp), np.where(cc == 0, 1e-4, cp)
    assert t["psi"]["value"] == pytest.approx(np.sum((cp - rp) * np.log(cp / rp)), abs=TOL)
    assert result["status"] == "ok"


def test_js_base_configurable() -> None:
    ref, cur = CASES["normal"]
    r = compare_numeric(ref, cur, DriftConfig(js_base=2.0))
    edges = np.array(r["conventions"]["psi"]["edges"])
    expected = jensenshannon(independent_bins(ref, edges), independent_bins(cur, edges), base=2)
    assert r["tests"]["jensen_shannon"]["value"] == pytest.approx(expected, abs=TOL)
    assert r["conventions"]["jensen_shannon"]["base"] == 2.0


def test_nonfinite_dropped_and_counted() -> None:
    ref = np.array([1.0, np.nan, 2.0, np.inf, 3.0, -np.inf, 4.0])
    cur = np.array([np.nan, 2.5, 3.5, 4.5, 5.5])
    r = compare_numeric(ref, cur)
    assert r["dropped"] == {"reference": 3, "current": 1}
    assert r["n_reference"] == 4 and r["n_current"] == 4
    ks = stats.ks_2samp([1.0, 2, 3, 4], [2.5, 3.5, 4.5, 5.5])
    assert r["tests"]["ks"]["p_value"] == pytest.approx(ks.pvalue, abs=TOL)


@pytest.mark.parametrize(
    ("ref", "cur", "status"),
    [
        ([], [1.0, 2.0], "empty_reference"),
        ([1.0, 2.0], [], "empty_current"),
        ([], [], "empty_both"),
        ([np.nan, np.inf], [1.0], "empty_reference"),
    ],
)
def test_empty_sides(ref: list, cur: list, status: str) -> None:
    r = compare_numeric(np.array(ref, dtype=float), np.array(cur, dtype=float))
    assert r["status"] == status
    assert r["tests"]["ks"]["p_value"] is None
    assert r["tests"]["wasserstein_normed"]["value"] is None


def test_constant_sides_use_floor_and_match_scipy() -> None:
    ref, cur = np.full(40, 2.0), np.full(30, 2.5)
    with np.errstate(all="raise"):
        r = compare_numeric(ref, cur)
    assert r["status"] == "constant_both"
    assert r["tests"]["wasserstein_normed"]["value"] == pytest.approx(
        stats.wasserstein_distance(ref, cur) / 1e-3, rel=TOL
    )
    ks = stats.ks_2samp(ref, cur)
    assert r["tests"]["ks"]["p_value"] == pytest.approx(ks.pvalue, abs=TOL)
    assert compare_numeric(ref, rng.normal(size=10))["status"] == "constant_reference"
    assert compare_numeric(rng.normal(size=10), cur)["status"] == "constant_current"


def test_all_zero_columns() -> None:
    r = compare_numeric(np.zeros(100), np.zeros(80))
    assert r["status"] == "constant_both"
    assert r["tests"]["psi"]["value"] == pytest.approx(0.0)
    assert r["tests"]["jensen_shannon"]["value"] == pytest.approx(0.0)
    assert r["tests"]["ks"]["p_value"] == pytest.approx(
        stats.ks_2samp(np.zeros(100), np.zeros(80)).pvalue
    )


def test_profile_reuse_gives_same_result() -> None:
    ref, cur = CASES["pareto"]
    prof = profile_numeric(ref)
    assert compare_numeric(prof, cur)["tests"] == compare_numeric(ref, cur)["tests"]
