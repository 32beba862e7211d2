"""The vectorised scores equal scoringrules (and numpy) called one cell at a time."""

from __future__ import annotations

import numpy as np
import pytest
import scoringrules as sr

from monitoring.skill.scores import LEVELS, score_cells


def zero_inflated(cells: int, members: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    active = rng.random((cells, 1)) < 0.6
    draws = np.where(
        rng.random((cells, members)) < 0.5 * active,
        np.expm1(np.abs(rng.normal(2.0, 1.2, (cells, members)))).round(),
        0.0,
    ).astype(np.float32)
    observed = np.where(rng.random(cells) < 0.4, rng.poisson(30, cells), 0).astype(np.float64)
    return draws, observed


@pytest.mark.parametrize("members", [1, 7, 64])
def test_it_matches_scoringrules_called_per_cell(members):
    draws, observed = zero_inflated(300, members, seed=members)
    scores = score_cells(draws, observed, threshold=25.0, chunk=64, threads=2)
    # Cells the library is not called for (score 0 by construction) are among them.
    assert ((draws.min(1) == draws.max(1)) & (draws[:, 0] == observed)).any()
    assert ((draws.max(1) <= 25) & (observed <= 25)).any()
    for i in range(len(observed)):
        cell = draws[i].astype(np.float64)
        # Exactly: the same sorted members, the same reductions, one row at a time.
        assert scores.crps[i] == sr.crps_ensemble(observed[i], cell)
        assert scores.twcrps[i] == sr.twcrps_ensemble(observed[i], cell, a=25.0)
        any_fatality = float(observed[i] > 0)
        assert scores.brier[i] == sr.brier_score(any_fatality, (cell > 0).mean())
        assert scores.squared_error[i] == pytest.approx((cell.mean() - observed[i]) ** 2)
        assert scores.squared_log_error[i] == pytest.approx(
            (np.log1p(cell.mean()) - np.log1p(observed[i])) ** 2
        )


def test_coverage_and_width_use_numpys_central_quantiles():
    draws, observed = zero_inflated(200, 33, seed=3)
    scores = score_cells(draws, observed, chunk=50)
    for level in LEVELS:
        bounds = [(1 - level) / 2, (1 + level) / 2]
        low, high = np.quantile(draws.astype(np.float64), bounds, axis=1)
        assert np.array_equal(scores.covered[level], (low <= observed) & (observed <= high))
        assert np.allclose(scores.width[level], high - low, rtol=1e-12, atol=1e-12)


def test_the_randomized_pit_lies_between_the_cdf_below_and_at_the_outcome():
    draws, observed = zero_inflated(500, 40, seed=4)
    scores = score_cells(draws, observed, seed=9)
    below = (draws < observed[:, None]).mean(axis=1)
    at = (draws <= observed[:, None]).mean(axis=1)
    assert np.all(below - 1e-12 <= scores.pit) and np.all(scores.pit <= at + 1e-12)
    # A zero outcome under draws that are all zero: anywhere in [0, 1], not a spike at 1.
    all_zero = (at == 1) & (below == 0)
    assert all_zero.any() and 0.2 < scores.pit[all_zero].mean() < 0.8


def test_a_calibrated_count_forecast_has_a_flat_randomized_pit():
    rng = np.random.default_rng(5)
    rates = rng.gamma(0.5, 4.0, 4000)
    draws = rng.poisson(rates[:, None], (4000, 200)).astype(np.float32)
    observed = rng.poisson(rates).astype(np.float64)  # drawn from the forecast itself
    pit = score_cells(draws, observed, seed=1).pit
    counts = np.histogram(pit, bins=10, range=(0, 1))[0]
    assert counts.min() > 300 and counts.max() < 500  # about 400 each
    plain = np.histogram((draws <= observed[:, None]).mean(axis=1), bins=10, range=(0, 1))[0]
    assert plain.max() > 800  # the plain PIT is not flat: why it is randomized


def test_chunks_and_threads_change_nothing_and_the_seed_fixes_the_pit():
    draws, observed = zero_inflated(1000, 16, seed=6)
    one = score_cells(draws, observed, chunk=10_000, threads=1, seed=2)
    many = score_cells(draws, observed, chunk=97, threads=2, seed=2)
    for name in ("crps", "twcrps", "brier", "pit"):
        assert np.array_equal(getattr(one, name), getattr(many, name)), name
    assert not np.array_equal(one.pit, score_cells(draws, observed, seed=3).pit)


def test_it_refuses_draws_and_outcomes_that_do_not_pair():
    with pytest.raises(ValueError):
        score_cells(np.zeros((3, 4)), np.zeros(2))
    assert len(score_cells(np.zeros((0, 4)), np.zeros(0))) == 0
