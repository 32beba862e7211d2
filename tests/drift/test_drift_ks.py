"""KS parity with scipy.stats.ks_2samp (statistic and p-value, exact/asymptotic switch)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from monitoring.drift import compare_numeric
from monitoring.drift.ks import exact_sf, resolve_method

TOL = 1e-9


def assert_ks_parity(ref: np.ndarray, cur: np.ndarray) -> dict:
    result = compare_numeric(ref, cur)
    expected = stats.ks_2samp(ref, cur)
    ks = result["tests"]["ks"]
    assert ks["statistic"] == pytest.approx(float(expected.statistic), abs=TOL)
    assert ks["p_value"] == pytest.approx(float(expected.pvalue), abs=TOL)
    return result


rng = np.random.default_rng(20240611)

GOLDEN = {
    "normal_shift": (rng.normal(size=500), rng.normal(0.2, 1.0, size=700)),
    "poisson_many_zeros": (
        rng.poisson(0.3, size=2000).astype(float),
        rng.poisson(0.4, size=1500).astype(float),
    ),
    "poisson_equal_sizes": (
        rng.poisson(1.5, size=800).astype(float),
        rng.poisson(1.5, size=800).astype(float),
    ),
    "unequal_tiny": (rng.normal(size=3), rng.normal(size=11)),
    "one_value_each_equal": (np.array([1.0]), np.array([1.0])),
    "one_value_each_differ": (np.array([1.0]), np.array([2.0])),
    "constant_both_same": (np.full(50, 3.0), np.full(70, 3.0)),
    "constant_both_differ": (np.full(50, 3.0), np.full(70, 4.0)),
    "pareto": (rng.pareto(1.2, size=3000), rng.pareto(1.1, size=2500)),
    "log1p_lognormal_zero_inflated": (
        np.where(rng.random(4000) < 0.7, 0.0, np.log1p(rng.lognormal(2, 1.5, 4000))),
        np.where(rng.random(3000) < 0.6, 0.0, np.log1p(rng.lognormal(2, 1.5, 3000))),
    ),
    "negative_and_zero": (
        rng.integers(-3, 4, 900).astype(float) * -0.0 + rng.integers(-3, 4, 900),
        rng.integers(-3, 4, 1100).astype(float),
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_cases(name: str) -> None:
    ref, cur = GOLDEN[name]
    assert_ks_parity(ref, cur)


@pytest.mark.parametrize(
    ("n1", "n2"),
    [(10_000, 10_000), (10_000, 10_001), (10_001, 10_000), (10_000, 9_999), (9_999, 7_001)],
)
def test_exact_asymptotic_boundary(n1: int, n2: int) -> None:
    local = np.random.default_rng(n1 * 7 + n2)
    ref = local.normal(size=n1)
    cur = local.normal(0.03, 1.0, size=n2)
    result = assert_ks_parity(ref, cur)
    expected_method = "exact" if max(n1, n2) <= 10_000 else "asymp"
    assert result["conventions"]["ks"]["method"] == expected_method


def test_boundary_with_ties() -> None:
    local = np.random.default_rng(3)
    assert_ks_parity(local.poisson(2, 10_000).astype(float), local.poisson(2.05, 10_001) * 1.0)
    assert_ks_parity(local.poisson(2, 10_000).astype(float), local.poisson(2.05, 9_000) * 1.0)


def test_float32_input_matches_scipy_on_float32() -> None:
    local = np.random.default_rng(4)
    ref = local.normal(size=3000).astype(np.float32)
    cur = (local.normal(size=2000) + 0.05).astype(np.float32)
    assert_ks_parity(ref, cur)


def test_large_asymptotic() -> None:
    local = np.random.default_rng(5)
    assert_ks_parity(local.normal(size=200_000), local.normal(0.01, 1, size=150_000))


def _brute_force_sf(n1: int, n2: int) -> np.ndarray:
    """P(D >= h/lcm) for every h, by enumerating every interleaving of the two samples."""
    from itertools import combinations

    lcm = int(np.lcm(n1, n2))
    hits = np.zeros(lcm + 1)
    paths = 0
    for a_positions in combinations(range(n1 + n2), n1):
        is_a = np.zeros(n1 + n2, dtype=bool)
        is_a[list(a_positions)] = True
        gap = np.abs(np.cumsum(is_a) * (lcm // n1) - np.cumsum(~is_a) * (lcm // n2))
        hits[: int(gap.max()) + 1] += 1
        paths += 1
    return hits / paths


@pytest.mark.parametrize(("n1", "n2"), [(5, 5), (4, 7), (6, 4), (3, 9), (8, 6)])
def test_exact_distribution_against_enumeration(n1: int, n2: int) -> None:
    expected = _brute_force_sf(n1, n2)
    ours = exact_sf(n1, n2, np.arange(expected.size))
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12)


def test_method_rule() -> None:
    assert resolve_method(10_000, 10_000) == "exact"
    assert resolve_method(10_001, 5) == "asymp"
    assert resolve_method(5, 10_001) == "asymp"


small = st.lists(st.integers(-4, 4), min_size=1, max_size=60)


@settings(max_examples=150, deadline=None)
@given(small, small)
def test_property_ks_parity_with_ties(a: list[int], b: list[int]) -> None:
    assert_ks_parity(np.array(a, dtype=float), np.array(b, dtype=float))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False, width=32), min_size=1, max_size=300),
    st.lists(st.floats(-1e6, 1e6, allow_nan=False, width=32), min_size=1, max_size=300),
)
def test_property_ks_parity_floats(a: list[float], b: list[float]) -> None:
    assert_ks_parity(np.array(a), np.array(b))
