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
    rows: dict[int, dict] = {}
    for month in np.unique(months):
        m = months == month
        rows[int(month)] = {
            "cells": int(m.sum()),
            "zeros": int((observed[m] == 0).sum()),
            "crps": float(scores.crps[m].mean()),
            "twcrps": float(scores.twcrps[m].mean()),
            "mse": float(scores.squared_error[m].mean()),
            "msle": float(scores.squared_log_error[m].mean()),
            "brier": float(scores.brier[m].mean()),
            "coverage_50": float(scores.covered[0.5][m].mean()),
            "coverage_90": float(scores.covered[0.9][m].mean()),
            "calibration": calibration_summary(scores, observed, m),
        }
    return rows
