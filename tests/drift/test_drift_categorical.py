"""Categorical columns: chi-square and Jensen-Shannon against scipy; unseen categories."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency

from monitoring.drift import compare_categorical

TOL = 1e-9


def table(ref: list, cur: list) -> tuple[list[str], np.ndarray]:
    cats = sorted({str(v) for v in ref} | {str(v) for v in cur})
    return cats, np.array(
        [
            [sum(str(v) == c for v in ref) for c in cats],
            [sum(str(v) == c for v in cur) for c in cats],
        ]
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chi_square_and_js_parity(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ref = rng.choice(["a", "b", "c", "d"], size=500, p=[0.4, 0.3, 0.2, 0.1]).tolist()
    cur = rng.choice(["a", "b", "c", "d", "e"], size=400, p=[0.3, 0.3, 0.2, 0.1, 0.1]).tolist()
    r = compare_categorical(ref, cur)
    _, tab = table(ref, cur)
    expected = chi2_contingency(tab, correction=False)
    assert r["tests"]["chi_square"]["statistic"] == pytest.approx(expected.statistic, rel=TOL)
    assert r["tests"]["chi_square"]["p_value"] == pytest.approx(expected.pvalue, abs=TOL)
    assert r["tests"]["chi_square"]["dof"] == expected.dof
    assert r["tests"]["jensen_shannon"]["value"] == pytest.approx(
        jensenshannon(tab[0], tab[1]), abs=TOL
    )
    assert r["unseen_categories"]["count"] == 1
    assert list(r["unseen_categories"]["values"]) == ["e"]


def test_two_categories_no_yates() -> None:
    ref, cur = ["x"] * 30 + ["y"] * 10, ["x"] * 20 + ["y"] * 20
    r = compare_categorical(ref, cur)
    _, tab = table(ref, cur)
    assert r["tests"]["chi_square"]["p_value"] == pytest.approx(
        chi2_contingency(tab, correction=False).pvalue, abs=TOL
    )


def test_missing_dropped_and_statuses() -> None:
    r = compare_categorical(["a", None, float("nan"), "b"], ["a", None])
    assert r["dropped"] == {"reference": 2, "current": 1}
    assert compare_categorical([], ["a"])["status"] == "empty_reference"
    assert compare_categorical(["a"], [None])["status"] == "empty_current"
    const = compare_categorical(["a"] * 5, ["a"] * 3)
    assert const["status"] == "constant_both"
    assert const["tests"]["chi_square"]["p_value"] == pytest.approx(
        chi2_contingency([[5], [3]]).pvalue
    )
