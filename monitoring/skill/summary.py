"""Ledger rows from cell scores: means per month, and the calibration each row keeps."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .scores import LEVELS, CellScores

PIT_BINS = 10
GROUPS = ("all", "zero", "nonzero")


def _mean(values: NDArray, mask: NDArray[np.bool_]) -> float | None:
    return float(values[mask].mean()) if mask.any() else None


def calibration_summary(scores: CellScores, observed: NDArray, mask: NDArray[np.bool_]) -> dict:
    """PIT histogram counts, coverage and mean interval width per nominal level, for all
    cells of `mask` and for those whose outcome is zero or not (counts pile up at zero)."""
    zero = observed == 0
    masks = {"all": mask, "zero": mask & zero, "nonzero": mask & ~zero}
    edges = np.linspace(0.0, 1.0, PIT_BINS + 1)
    out: dict[str, Any] = {
        "levels": list(LEVELS),
        "cells": {g: int(m.sum()) for g, m in masks.items()},
        "pit": {},
        "coverage": {},
        "width": {},
    }
    for group, m in masks.items():
        out["pit"][group] = np.histogram(scores.pit[m], bins=edges)[0].tolist()
        out["coverage"][group] = [_mean(scores.covered[lv], m) for lv in LEVELS]
        out["width"][group] = [_mean(scores.width[lv], m) for lv in LEVELS]
    return out


def month_rows(scores: CellScores, observed: NDArray, months: NDArray) -> dict[int, dict]:
    """{month: the ledger's numbers for the cells of that month}."""
    order = np.argsort(months, kind="stable")
    months = months[order]
    observed = observed[order]
    scores = _taken(scores, order)
    found, starts = np.unique(months, return_index=True)
    ends = [*starts[1:], len(months)]
    rows: dict[int, dict] = {}
    for month, a, b in zip(found, starts, ends, strict=True):
        part = _taken(scores, slice(a, b))  # views: a slice copies nothing
        values = observed[a:b]
        rows[int(month)] = {
            "cells": int(b - a),
            "zeros": int((values == 0).sum()),
            "crps": float(part.crps.mean()),
            "twcrps": float(part.twcrps.mean()),
            "mse": float(part.squared_error.mean()),
            "msle": float(part.squared_log_error.mean()),
            "brier": float(part.brier.mean()),
            "coverage_50": float(part.covered[0.5].mean()),
            "coverage_90": float(part.covered[0.9].mean()),
            "calibration": calibration_summary(part, values, np.ones(b - a, dtype=bool)),
        }
    return rows


def _taken(scores: CellScores, index: Any) -> CellScores:
    return CellScores(
        crps=scores.crps[index],
        twcrps=scores.twcrps[index],
        squared_error=scores.squared_error[index],
        squared_log_error=scores.squared_log_error[index],
        brier=scores.brier[index],
        covered={lv: v[index] for lv, v in scores.covered.items()},
        width={lv: v[index] for lv, v in scores.width.items()},
        pit=scores.pit[index],
    )


BASELINE_SCORES = {"crps": "crps", "twcrps": "twcrps", "mse": "squared_error",
                   "msle": "squared_log_error", "brier": "brier"}  # fmt: skip


def month_means(scores: CellScores, months: NDArray) -> dict[int, dict[str, float]]:
    """{month: {score: mean}} of a naive forecast's cells (the ledger's baselines)."""
    found: dict[int, dict[str, float]] = {}
    for month in np.unique(months):
        m = months == month
        found[int(month)] = {
            name: float(getattr(scores, attribute)[m].mean())
            for name, attribute in BASELINE_SCORES.items()
        }
    return found
