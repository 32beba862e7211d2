"""Score posterior draws against outcomes, many cells at once, with scoringrules.

A cell is one unit, month and target: `draws[i]` are its ensemble members, `observed[i]`
its outcome. CRPS, twCRPS and the Brier score come from scoringrules (the numpy backend,
CRPS by its default quantile-decomposition estimator), called on whole chunks of cells
(skipping cells whose score is 0 by construction): the same numbers, bit for bit, as the
library called cell by cell (tests/skill/test_skill_scores.py).
The rest needs no library: the point forecast is the draws' mean (MSE and MSLE of it),
coverage uses the central intervals of the draws (numpy's linear quantiles), and the PIT is
randomized, since counts with many zeros make the plain PIT pile up at the ends:
u ~ U(F(y-), F(y)) with F the draws' empirical CDF.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import scoringrules as sr
from numpy.typing import NDArray

F64 = NDArray[np.float64]

# Central intervals whose coverage is measured (the ledger keeps 50% and 90% as columns).
LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
# Cells scored per chunk: 8,192 cells x 256 draws is 16 MB of float64 per temporary.
CHUNK = 8_192
DEFAULT_THRESHOLD = 25.0  # twCRPS: only fatalities above this count (v(x) = max(x, t))


@dataclass
class CellScores:
    """One value per cell, in the order of the input."""

    crps: F64
    twcrps: F64
    squared_error: F64  # of the draws' mean
    squared_log_error: F64  # log1p of the mean against log1p of the outcome
    brier: F64  # P(any fatality) = share of draws above zero, against outcome > 0
    covered: dict[float, NDArray[np.bool_]]  # level -> outcome inside the central interval
    width: dict[float, F64]  # level -> the interval's width (sharpness)
    pit: F64  # randomized PIT in [0, 1]

    def __len__(self) -> int:
        return len(self.crps)


def _quantile_sorted(ordered: F64, q: float) -> F64:
    """numpy's default (linear) quantile of each row of an already sorted array."""
    position = q * (ordered.shape[1] - 1)
    below = int(np.floor(position))
    above = min(below + 1, ordered.shape[1] - 1)
    fraction = position - below
    low = ordered[:, below]
    return low + (ordered[:, above] - low) * fraction


def _score_chunk(draws: NDArray, observed: NDArray, threshold: float, uniform: F64) -> CellScores:
    # Sorting before widening to float64 gives the same order, sooner.
    ordered = np.sort(draws, axis=1).astype(np.float64)
    obs = np.asarray(observed, dtype=np.float64)
    members = ordered.shape[1]
    point = ordered.mean(axis=1)
    below = (ordered < obs[:, None]).sum(axis=1)
    at_most = (ordered <= obs[:, None]).sum(axis=1)
    covered: dict[float, NDArray[np.bool_]] = {}
    width: dict[float, F64] = {}
    for level in LEVELS:
        low = _quantile_sorted(ordered, (1.0 - level) / 2.0)
        high = _quantile_sorted(ordered, (1.0 + level) / 2.0)
        covered[level] = (low <= obs) & (obs <= high)
        width[level] = high - low
    return CellScores(
        crps=_crps(obs, ordered),
        twcrps=_twcrps(obs, ordered, threshold),
        squared_error=(point - obs) ** 2,
        squared_log_error=(np.log1p(point) - np.log1p(obs)) ** 2,
        brier=np.asarray(sr.brier_score((obs > 0).astype(np.float64), (at_most_zero(ordered)))),
        covered=covered,
        width=width,
        pit=(below + uniform * (at_most - below)) / members,
    )


def _crps(obs: F64, ordered: F64) -> F64:
    """scoringrules' CRPS, called only for cells where it can differ from 0: a cell whose
    draws all equal its outcome (no fatality forecast, none observed: most cells of a
    PRIO-GRID forecast) scores exactly 0.0, which is what the library returns for it."""
    out = np.zeros(len(obs))
    busy = ~((ordered[:, 0] == ordered[:, -1]) & (ordered[:, 0] == obs))
    if busy.any():
        out[busy] = sr.crps_ensemble(obs[busy], ordered[busy], sorted_ensemble=True)
    return out


def _twcrps(obs: F64, ordered: F64, threshold: float) -> F64:
    """scoringrules' twCRPS (v(x) = max(x, t)), called only for cells with a draw or the
    outcome above the threshold: below it everything maps to t and the score is 0.0."""
    out = np.zeros(len(obs))
    busy = (ordered[:, -1] > threshold) | (obs > threshold)
    if busy.any():
        out[busy] = sr.twcrps_ensemble(obs[busy], ordered[busy], a=threshold, sorted_ensemble=True)
    return out


def at_most_zero(ordered: F64) -> F64:
    """P(X > 0) per row: the share of draws above zero."""
    return (ordered > 0).mean(axis=1)


def _concatenate(parts: list[CellScores]) -> CellScores:
    def join(name: str) -> F64:
        return np.concatenate([getattr(part, name) for part in parts])

    return CellScores(
        crps=join("crps"),
        twcrps=join("twcrps"),
        squared_error=join("squared_error"),
        squared_log_error=join("squared_log_error"),
        brier=join("brier"),
        covered={lv: np.concatenate([p.covered[lv] for p in parts]) for lv in LEVELS},
        width={lv: np.concatenate([p.width[lv] for p in parts]) for lv in LEVELS},
        pit=join("pit"),
    )


def score_cells(
    draws: NDArray,
    observed: NDArray,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    seed: int = 0,
    chunk: int = CHUNK,
    threads: int | None = None,
) -> CellScores:
    """Score `draws` (cells x members) against `observed` (cells), chunk by chunk.

    The PIT's randomization is drawn from `seed` (one uniform per cell, fixed before the
    chunks split), so the same input always gives the same histogram. Chunks run on
    threads: numpy's sort and reductions release the GIL.
    """
    draws = np.asarray(draws)
    observed = np.asarray(observed)
    if draws.ndim != 2 or observed.shape != (draws.shape[0],):
        raise ValueError(f"draws {draws.shape} and outcomes {observed.shape} do not pair up")
    if draws.shape[0] == 0:
        empty = np.zeros(0)
        return CellScores(
            empty, empty, empty, empty, empty,
            {lv: np.zeros(0, dtype=bool) for lv in LEVELS}, {lv: empty for lv in LEVELS}, empty,
        )  # fmt: skip
    uniform = np.random.default_rng(seed).random(draws.shape[0])
    bounds = [(start, min(start + chunk, draws.shape[0])) for start in range(0, len(draws), chunk)]
    workers = threads or min(len(bounds), os.cpu_count() or 1)

    def one(bound: tuple[int, int]) -> CellScores:
        a, b = bound
        return _score_chunk(draws[a:b], observed[a:b], threshold, uniform[a:b])

    if workers <= 1:
        return _concatenate([one(bound) for bound in bounds])
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return _concatenate(list(pool.map(one, bounds)))
