"""Diebold-Mariano with the HLN correction, Benjamini-Hochberg across steps, verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from monitoring.drift import bh_adjust
from monitoring.skill.compare import BETTER, SAME, WORSE, compare_steps, overall_verdict


def cells(months: int, units: int, steps: int = 1):
    step = np.repeat(np.arange(1, steps + 1), months * units)
    month = np.tile(np.repeat(np.arange(months), units), steps)
    return step, month


def test_the_statistic_is_diebold_mariano_with_the_hln_correction():
    rng = np.random.default_rng(0)
    steps, months = cells(months=20, units=5, steps=3)
    a = rng.gamma(2.0, 1.0, len(steps))
    b = a + rng.normal(0.1, 0.5, len(steps))
    tests = compare_steps(a, b, steps, months, alpha=0.05)
    for item in tests:
        here = steps == item.step
        d = (a - b)[here].reshape(20, 5).mean(axis=1)  # the months' mean differentials
        t, lag = 20, min(item.step - 1, 20 // 4)
        c = d - d.mean()
        lrv = c @ c / t + sum(2 * (c[k:] @ c[:-k]) / t for k in range(1, lag + 1))
        h = lag + 1
        dm = d.mean() / math.sqrt(lrv / t)
        hln = dm * math.sqrt((t + 1 - 2 * h + h * (h - 1) / t) / t)
        assert item.statistic == pytest.approx(hln, rel=1e-12)
        assert item.p_value == pytest.approx(2 * stats.t.sf(abs(hln), t - 1), rel=1e-12)
        assert item.low < item.difference < item.high
        assert item.test.startswith("Diebold-Mariano (HLN), 20 months")
    assert [i.q_value for i in tests] == pytest.approx(list(bh_adjust([i.p_value for i in tests])))


def test_under_no_difference_it_rejects_about_alpha_of_the_time():
    rng = np.random.default_rng(1)
    steps, months = cells(months=24, units=10)
    rejected = 0
    for _ in range(400):
        a = rng.gamma(2.0, 1.0, len(steps))
        b = a + rng.normal(0.0, 1.0, len(steps))
        rejected += compare_steps(a, b, steps, months)[0].verdict != SAME
    assert 0.02 <= rejected / 400 <= 0.09


def test_a_clear_difference_is_better_or_worse_and_worse_wins_overall():
    rng = np.random.default_rng(2)
    steps, months = cells(months=12, units=8, steps=2)
    base = rng.gamma(2.0, 1.0, len(steps))
    shift = np.where(steps == 1, -0.8, 0.8)
    candidate = base + shift + rng.normal(0, 0.1, len(steps))
    tests = compare_steps(candidate, base, steps, months)
    assert [t.verdict for t in tests] == [BETTER, WORSE]
    assert tests[0].high < 0 < tests[1].low
    assert overall_verdict(tests) == WORSE


def test_one_month_per_step_falls_back_to_a_paired_t_over_units():
    rng = np.random.default_rng(3)
    steps, months = cells(months=1, units=40)
    a = rng.normal(0, 1, 40)
    b = a + rng.normal(0.5, 0.2, 40)
    (item,) = compare_steps(a, b, steps, months)
    expected = stats.ttest_rel(a, b)
    assert item.statistic == pytest.approx(expected.statistic, rel=1e-10)
    assert item.p_value == pytest.approx(expected.pvalue, rel=1e-10)
    assert item.verdict == BETTER and item.test.startswith("paired t over 40 units")


def test_identical_forecasts_are_no_detectable_difference():
    steps, months = cells(months=6, units=3)
    a = np.arange(len(steps), dtype=float)
    (item,) = compare_steps(a, a.copy(), steps, months)
    assert item.verdict == SAME and item.p_value == 1.0 and item.test == "identical scores"
