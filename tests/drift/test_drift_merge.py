"""The blocked merge behind KS and W1: every block size gives scipy's answer, including when
runs of tied values cross block boundaries and for float32 samples; and the thread count never
changes a report."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from monitoring.drift import DriftConfig, compare_columns
from monitoring.drift.config import MAX_AUTO_THREADS, usable_cpus
from monitoring.drift.numeric import MERGE_BLOCK, merged_cdf_gap

TOL = 1e-9
BLOCKS = (1, 2, 3, 7, 64, MERGE_BLOCK)


def scipy_pair(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return (float(stats.ks_2samp(a, b).statistic), stats.wasserstein_distance(a64, b64))


small = st.lists(st.integers(-3, 3), min_size=1, max_size=50)


@settings(max_examples=100, deadline=None)
@given(small, small, st.sampled_from(BLOCKS))
def test_any_block_size_matches_scipy_with_ties(a: list[int], b: list[int], block: int) -> None:
    sa, sb = np.sort(np.array(a, dtype=float)), np.sort(np.array(b, dtype=float))
    d, w1 = merged_cdf_gap(sa, sb, block)
    ks, w = scipy_pair(sa, sb)
    assert d == pytest.approx(ks, abs=1e-12)
    assert w1 == pytest.approx(w, rel=TOL, abs=TOL)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blocks_agree_on_zero_inflated_sample(dtype: type) -> None:
    rng = np.random.default_rng(7)
    # long runs of zeros and of rounded values straddle every block boundary
    a = np.where(rng.random(30_000) < 0.6, 0.0, np.round(rng.lognormal(1, 1, 30_000), 1))
    b = np.where(rng.random(25_000) < 0.5, 0.0, np.round(rng.lognormal(1.1, 1, 25_000), 1))
    sa, sb = np.sort(a).astype(dtype), np.sort(b).astype(dtype)
    ks, w = scipy_pair(sa, sb)
    results = [merged_cdf_gap(sa, sb, block) for block in (*BLOCKS[3:], 10_000, 10**6)]
    for d, w1 in results:
        assert d == results[0][0]  # the statistic is an exact integer ratio: no drift at all
        assert d == pytest.approx(ks, abs=1e-12)
        assert w1 == pytest.approx(w, rel=TOL)


def test_thread_count_does_not_change_the_report() -> None:
    rng = np.random.default_rng(11)
    ref = {f"c{i}": rng.normal(size=3000) for i in range(5)}
    cur = {f"c{i}": rng.normal(0.1 * i, 1, size=2500) for i in range(5)}
    reports = [compare_columns(ref, cur, DriftConfig(threads=t)) for t in (1, 3, None)]
    assert reports[1] == reports[0]
    assert reports[2] == reports[0]


def test_workers() -> None:
    assert DriftConfig(threads=1).workers(20) == 1
    assert DriftConfig(threads=4).workers(20) == 4
    assert DriftConfig(threads=4).workers(3) == 3  # never more threads than tasks
    auto = DriftConfig().workers(1000)
    assert 1 <= auto <= min(usable_cpus(), MAX_AUTO_THREADS)
    assert DriftConfig().workers(0) == 1
    with pytest.raises(ValueError, match="threads"):
        DriftConfig(threads=0)
