"""Benjamini-Hochberg and the verdict rule."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import false_discovery_control

from monitoring.drift import DriftConfig, apply_verdicts, bh_adjust, compare_numeric


@pytest.mark.parametrize("seed", range(5))
def test_bh_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.concatenate((rng.uniform(size=40), rng.uniform(0, 1e-3, size=10), [0.0, 1.0, 0.5]))
    np.testing.assert_allclose(bh_adjust(p), false_discovery_control(p), rtol=1e-12)


def test_bh_ignores_nan() -> None:
    p = np.array([0.01, np.nan, 0.04, 0.03])
    q = bh_adjust(p)
    assert np.isnan(q[1])
    np.testing.assert_allclose(q[[0, 2, 3]], false_discovery_control(p[[0, 2, 3]]))


def test_large_samples_need_an_effect() -> None:
    rng = np.random.default_rng(7)
    n = 200_000
    results = {
        "tiny_shift": compare_numeric(rng.normal(size=n), rng.normal(0.02, 1, size=n)),
        "big_shift": compare_numeric(rng.normal(size=n), rng.normal(0.5, 1, size=n)),
        "same": compare_numeric(rng.normal(size=n), rng.normal(size=n)),
        "empty": compare_numeric(rng.normal(size=10), np.array([])),
    }
    summary = apply_verdicts(results)
    assert results["tiny_shift"]["tests"]["ks"]["p_value"] < 1e-6
    assert not results["tiny_shift"]["drifted"]
    assert results["tiny_shift"]["reason"].startswith("effect_below_minimum")
    assert results["big_shift"]["drifted"]
    assert results["big_shift"]["reason"].startswith("significant_and_effect")
    assert "wasserstein_normed" in results["big_shift"]["reason"]
    assert results["same"]["reason"].startswith(("not_significant", "effect_below_minimum"))
    assert results["empty"]["reason"].startswith("not_tested")
    assert summary["drifted"] == 1 and summary["tested"] == 3
    assert summary["method"] == "benjamini-hochberg"

    strict = {k: v for k, v in results.items() if k != "empty"}
    apply_verdicts(strict, DriftConfig(min_wasserstein_normed=0.01, min_psi=10))
    assert strict["tiny_shift"]["drifted"]
