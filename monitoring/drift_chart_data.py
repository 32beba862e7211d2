"""The bounded chart data a drift result keeps: plain JSON values, histograms on shared
edges, quantiles, and roll-ups of the draws' cells (the pages must never load megabytes).

Pure functions of the drift engine's profiles and comparisons; no database.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from monitoring.drift import ColumnProfile, DrawsComparison

# Bounds of the chart data stored per column (the pages must never load megabytes).
HISTOGRAM_BINS = 50
QUANTILES = np.round(np.linspace(0.0, 1.0, 101), 2)
TOP_UNITS = 50
MATRIX_UNITS = 100
TOP_CATEGORIES = 50


def finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def plain(value: Any) -> Any:
    """JSON-safe: numpy scalars as Python, NaN and infinities as None (never NaN in the DB)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return finite(value)
    return value


def _quantiles(values: np.ndarray) -> list[float | None]:
    """Linear-interpolated quantiles (numpy's default) of an already sorted sample."""
    if values.size == 0:
        return []
    position = QUANTILES * (values.size - 1)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, values.size - 1)
    lo_v, hi_v = values[low].astype(np.float64), values[high].astype(np.float64)
    return plain(lo_v + (hi_v - lo_v) * (position - low))


def distribution(ref: ColumnProfile, cur: ColumnProfile) -> dict[str, Any]:
    """Histograms on shared edges and percentiles of both sides, for overlay charts."""
    if ref.categorical is not None and cur.categorical is not None:
        r, c = ref.categorical.counts, cur.categorical.counts
        top = sorted(set(r) | set(c), key=lambda k: (-(r.get(k, 0) + c.get(k, 0)), str(k)))
        top = top[:TOP_CATEGORIES]
        return {
            "kind": "categorical",
            "categories": [str(k) for k in top],
            "reference": [int(r.get(k, 0)) for k in top],
            "current": [int(c.get(k, 0)) for k in top],
        }
    if ref.numeric is None or cur.numeric is None:
        return {}
    a, b = ref.numeric.sorted_values, cur.numeric.sorted_values
    sides = [s for s in (a, b) if s.size]
    if not sides:
        return {
            "edges": [],
            "reference": [],
            "current": [],
            "quantiles": [],
            "reference_q": [],
            "current_q": [],
        }
    low = float(min(s[0] for s in sides))
    high = float(max(s[-1] for s in sides))
    scale = "linear"
    if high <= low:
        edges = np.array([low, low + 1.0])
    elif low >= 0 and high > 20 * (float(sides[0][sides[0].size // 2]) + 1):  # sorted: median
        # Zero-inflated, heavy-tailed forecasts (fatalities): equal bins on log1p keep
        # the bulk visible instead of one tall bar at zero.
        scale = "log1p"
        edges = np.expm1(np.linspace(math.log1p(low), math.log1p(high), HISTOGRAM_BINS + 1))
        edges[0], edges[-1] = low, high
    else:
        edges = np.linspace(low, high, HISTOGRAM_BINS + 1)

    def counts(s: np.ndarray) -> list[int]:
        # Bins closed on the left, the last one closed on both sides.
        at = np.searchsorted(s, edges, side="left")
        at[-1] = s.size
        return plain(np.diff(at))

    return {
        "scale": scale,
        "edges": plain(edges),
        "reference": counts(a),
        "current": counts(b),
        "quantiles": plain(QUANTILES),
        "reference_q": _quantiles(a),
        "current_q": _quantiles(b),
    }


def draw_cells(rollup: dict[str, Any] | None, cmp: DrawsComparison | None) -> dict[str, Any]:
    """Bounded per-cell evidence of a draws column: by step and month, top units, a matrix.

    "mean_w1" is the mean W1-normed (W1 over the production cell's std): raw W1 is on each
    unit's own scale and would rank big countries first.
    """
    if rollup is None:
        return {}
    if cmp is None or rollup.get("status") != "ok":
        return plain({"status": rollup.get("status", "skipped"), "reason": rollup.get("reason")})
    tested = np.isfinite(cmp.ks_p_value)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_unit = np.where(tested, cmp.w1_normed, 0.0).sum(axis=1) / tested.sum(axis=1)
        share = np.where(tested, cmp.drifted, False).sum(axis=1) / tested.sum(axis=1)
    order = np.argsort(np.where(np.isfinite(per_unit), -per_unit, np.inf), kind="stable")
    order = order[np.isfinite(per_unit[order])]
    ids = cmp.unit_ids if cmp.unit_ids is not None else np.arange(cmp.shape[0])
    steps = [
        {
            "step": s["step"],
            "month": s["month"],
            "mean_w1": s["mean_w1_normed"],
            "mean_w1_raw": s["mean_w1"],
            "share_drifted": s["share_drifted"],
            "mean_change": s["mean_change"],
            "width_change": s["width_change"],
        }
        for s in rollup.get("by_step", [])
    ]
    matrix_units = order[:MATRIX_UNITS]
    w1 = np.where(tested, cmp.w1_normed, np.nan)[matrix_units]
    return plain(
        {
            "status": "ok",
            **{
                k: rollup.get(k)
                for k in (
                    "shape",
                    "draws",
                    "dropped",
                    "cells",
                    "tested",
                    "drifted",
                    "share_drifted",
                    "mean_w1_normed",
                    "units_with_drift",
                    "unmatched",
                    "conventions",
                )
            },
            "steps": steps,
            "months": [
                {"month": s["month"], "mean_w1": s["mean_w1"], "share_drifted": s["share_drifted"]}
                for s in steps
                if s["month"] is not None
            ],
            "units": [
                {"unit": ids[u], "mean_w1": per_unit[u], "share_drifted": share[u]}
                for u in order[:TOP_UNITS]
            ],
            "matrix": {
                "units": [ids[u] for u in matrix_units],
                "steps": list(range(1, cmp.shape[1] + 1)),
                "w1": np.round(w1, 6),
                "drifted": cmp.drifted[matrix_units],
            },
        }
    )
