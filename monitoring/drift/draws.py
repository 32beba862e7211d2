"""Posterior draws: production vs candidate per (unit, step), vectorised over all cells.

Input arrays are shaped (units, steps, draws). Cells are processed in chunks of rows of a
2-D (cells, draws) view: each chunk's rows are sorted once, the two sorted halves merged by a
row-wise stable argsort (timsort merges two runs in linear time), and the running count of
candidate draws along the merge gives both empirical CDFs at once, hence KS and W1 for every
cell with no Python loop over cells. KS p-values depend only on the statistic for a fixed
(n_production, n_candidate), so each distinct statistic gets one exact/asymptotic evaluation.

Cells holding NaN or ±inf go through the 1-D path one by one after dropping those values
(rare in practice, and correctness beats speed there).

Memory: the inputs, plus per worker thread a chunk of (cell_chunk, 2 * draws) merged values,
indices and CDF gaps (about 40 bytes per draw per cell), plus ten float64 outputs per cell.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .config import DEFAULT_CONFIG, DriftConfig
from .ks import ks_pvalues
from .multiple import bh_adjust
from .numeric import cdf_gap_scaled, finite_part, merged_cdf_gap, sorted_quantiles

F64 = NDArray[np.float64]


@dataclass
class DrawsComparison:
    """Per-cell results, each array shaped (units, steps). NaN marks an untested cell."""

    w1: F64
    w1_normed: F64
    ks_statistic: F64
    ks_p_value: F64
    q_value: F64
    drifted: NDArray[np.bool_]
    mean_change: F64
    width_change: F64
    n_production: NDArray[np.int64]
    n_candidate: NDArray[np.int64]
    dropped: dict[str, int]
    ks_method: list[str]
    config: DriftConfig
    unit_ids: NDArray[Any] | None = None
    first_month: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.w1.shape[0]), int(self.w1.shape[1]))

    def conventions(self) -> dict[str, Any]:
        c = self.config
        return {
            "cells": "one (unit, step) cell compares its production draws with its candidate "
            "draws; NaN/±inf draws dropped per cell and counted",
            "ks": {
                "test": "scipy.stats.ks_2samp two-sided per cell",
                "method": sorted(set(self.ks_method)),
            },
            "wasserstein_normed": {
                "definition": "W1 / max(population std of the production cell's draws, floor)",
                "std_floor": c.std_floor,
            },
            "mean_change": "mean(candidate) - mean(production)",
            "width_change": f"interval width change, quantiles {list(c.interval)} "
            "(numpy 'linear'), candidate minus production",
            "verdict": {
                "multiple_testing": "benjamini-hochberg over all tested cells",
                "alpha": c.alpha,
                "rule": "drifted = BH q <= alpha and wasserstein_normed >= minimum",
                "min_wasserstein_normed": c.min_wasserstein_normed,
            },
            "steps": "step k (1-based) is month first_month + k - 1",
        }

    def rollups(self, top: int | None = None) -> dict[str, Any]:
        """Summaries by step (with its month when first_month is known), by unit, overall."""
        top = self.config.top_units if top is None else top
        tested = np.isfinite(self.ks_p_value)
        units, steps = self.shape

        def mean(x: F64, axis: int) -> F64:
            num = np.where(tested, x, 0.0).sum(axis=axis)
            den = tested.sum(axis=axis)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(den > 0, num / np.maximum(den, 1), np.nan)

        drifted_f = self.drifted.astype(np.float64)
        per_step = {
            "mean_w1_normed": mean(self.w1_normed, 0),
            "mean_w1": mean(self.w1, 0),
            "mean_ks": mean(self.ks_statistic, 0),
            "share_drifted": mean(drifted_f, 0),
            "mean_change": mean(self.mean_change, 0),
            "width_change": mean(self.width_change, 0),
        }
        cells_per_step = tested.sum(axis=0)
        by_step = [
            {
                "step": s + 1,
                "month": None if self.first_month is None else int(self.first_month + s),
                "cells": int(cells_per_step[s]),
                **{k: _num(v[s]) for k, v in per_step.items()},
            }
            for s in range(steps)
        ]
        unit_w = mean(self.w1_normed, 1)
        unit_share = mean(drifted_f, 1)
        ranked = np.argsort(np.where(np.isfinite(unit_w), -unit_w, np.inf), kind="stable")
        ids = self.unit_ids if self.unit_ids is not None else np.arange(units)
        unit_change = mean(self.mean_change, 1)
        top_units = [
            {
                "unit": _plain(ids[u]),
                "mean_w1_normed": _num(unit_w[u]),
                "share_drifted": _num(unit_share[u]),
                "drifted_steps": int(self.drifted[u].sum()),
                "mean_change": _num(unit_change[u]),
            }
            for u in ranked[: min(top, units)]
            if np.isfinite(unit_w[u])
        ]
        n_tested = int(tested.sum())
        return {
            "cells": units * steps,
            "tested": n_tested,
            "drifted": int(self.drifted.sum()),
            "share_drifted": _num(self.drifted.sum() / n_tested) if n_tested else None,
            "mean_w1_normed": _num(np.nanmean(self.w1_normed)) if n_tested else None,
            "units_with_drift": int((self.drifted.sum(axis=1) > 0).sum()),
            "by_step": by_step,
            "top_units": top_units,
        }

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        return {
            "shape": {"units": self.shape[0], "steps": self.shape[1]},
            "draws": {
                "production": _counts(self.n_production),
                "candidate": _counts(self.n_candidate),
            },
            "dropped": dict(self.dropped),
            **self.rollups(top),
            **self.extra,
            "conventions": self.conventions(),
        }


def _num(x: Any) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _plain(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _counts(n: NDArray[np.int64]) -> Any:
    u = np.unique(n)
    return int(u[0]) if u.size == 1 else {"min": int(u.min()), "max": int(u.max())}


def _merge_any(sa: NDArray[Any], sb: NDArray[Any]) -> tuple[F64, NDArray[Any]]:
    """Merged values (float64) and scaled CDF gaps of row-sorted samples, any dtype."""
    rows, na = sa.shape
    nb = sb.shape[1]
    total = na + nb
    cat = np.concatenate((sa, sb), axis=1)
    # Timsort (kind="stable") merges each row's two sorted runs in linear time.
    order = np.argsort(cat, axis=1, kind="stable")
    # A flat gather is several times faster than take_along_axis on 2-D indices.
    flat = order + (np.arange(rows, dtype=np.int64) * total)[:, None]
    values = cat.ravel()[flat.ravel()].reshape(rows, total).astype(np.float64, copy=False)
    return values, cdf_gap_scaled(order >= na, na, nb)


def _merge_float32(sa: NDArray[np.float32], sb: NDArray[np.float32]) -> tuple[F64, NDArray[Any]]:
    """Same as _merge_any for float32 draws (the VIEWS case), without an argsort.

    A float32 widened to float64 has its 29 low mantissa bits zero, so the lowest bit can
    carry the sample of origin: setting it moves a value by one float64 ulp, which never
    crosses another float32 value. Sorting those keys (timsort again, two sorted runs) gives
    the merge; only the order inside a run of ties changes, and the gap is read at run ends.
    """
    rows, na = sa.shape
    nb = sb.shape[1]
    keys = np.empty((rows, na + nb), dtype=np.float64)
    keys[:, :na] = sa
    keys[:, na:] = sb
    keys += 0.0  # -0.0 becomes +0.0, so that it ties with +0.0 as in a float comparison
    bits = keys.view(np.int64)
    bits[:, na:] |= 1
    keys.sort(axis=1, kind="stable")
    gap = cdf_gap_scaled((bits & 1).astype(bool), na, nb)
    bits &= ~1
    return keys, gap


def _chunk_stats(
    a: NDArray[Any], b: NDArray[Any], interval: tuple[float, float]
) -> tuple[F64, ...]:
    """(KS D, W1, production std, mean change, width change) for rows of finite draws."""
    rows, na = a.shape
    nb = b.shape[1]
    sa = np.sort(a, axis=1)
    sb = np.sort(b, axis=1)
    if sa.dtype == np.float32 and sb.dtype == np.float32:
        values, gap = _merge_float32(sa, sb)
    else:
        values, gap = _merge_any(sa, sb)
    # The CDF gap counts only at the end of a run of ties, where ks_2samp evaluates it.
    tied_next = values[:, 1:] == values[:, :-1]
    d_int = np.maximum(np.max(np.where(tied_next, 0, gap[:, :-1]), axis=1), gap[:, -1])
    d = d_int / (na * nb)
    w1 = np.einsum("ij,ij->i", gap[:, :-1].astype(np.float64), np.diff(values, axis=1))
    w1 /= na * nb
    probs = np.asarray(interval, dtype=np.float64)
    qa = sorted_quantiles(sa, probs)
    qb = sorted_quantiles(sb, probs)
    width = (qb[:, 1] - qb[:, 0]) - (qa[:, 1] - qa[:, 0])
    mean_a = sa.mean(axis=1, dtype=np.float64)
    mean_b = sb.mean(axis=1, dtype=np.float64)
    std_a = np.std(sa, axis=1, dtype=np.float64)
    return d, w1, std_a, mean_b - mean_a, width


def compare_draws(
    production: ArrayLike,
    candidate: ArrayLike,
    config: DriftConfig = DEFAULT_CONFIG,
    *,
    unit_ids: ArrayLike | None = None,
    first_month: int | None = None,
) -> DrawsComparison:
    """Compare (units, steps, draws) arrays; draw counts may differ between the two."""
    a = np.asarray(production)
    b = np.asarray(candidate)
    if a.ndim != 3 or b.ndim != 3 or a.shape[:2] != b.shape[:2]:
        raise ValueError(
            f"draws must be (units, steps, draws) with equal units and steps, got {a.shape} "
            f"and {b.shape}"
        )
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    if b.dtype not in (np.float32, np.float64):
        b = b.astype(np.float64)
    units, steps, na = a.shape
    nb = b.shape[2]
    cells = units * steps
    a2 = a.reshape(cells, na)
    b2 = b.reshape(cells, nb)
    d = np.full(cells, np.nan)
    w1 = np.full(cells, np.nan)
    std = np.full(cells, np.nan)
    dmean = np.full(cells, np.nan)
    dwidth = np.full(cells, np.nan)
    n_a = np.full(cells, na, dtype=np.int64)
    n_b = np.full(cells, nb, dtype=np.int64)
    dropped = {"production": 0, "candidate": 0}
    slow: list[int] = []

    def work(start: int) -> tuple[int, list[int]]:
        stop = min(start + config.cell_chunk, cells)
        ca, cb = a2[start:stop], b2[start:stop]
        clean = np.isfinite(ca).all(axis=1) & np.isfinite(cb).all(axis=1)
        bad = (np.flatnonzero(~clean) + start).tolist()
        if clean.all():
            out = _chunk_stats(ca, cb, config.interval)
            sl = slice(start, stop)
        else:
            idx = np.flatnonzero(clean)
            out = _chunk_stats(ca[idx], cb[idx], config.interval)
            sl = idx + start  # type: ignore[assignment]
        d[sl], w1[sl], std[sl], dmean[sl], dwidth[sl] = out
        return start, bad

    if na and nb:
        starts = range(0, cells, config.cell_chunk)
        workers = config.workers(len(starts))
        if workers > 1:
            # numpy releases the GIL in sort/argsort/arithmetic, so threads use every core.
            with ThreadPoolExecutor(workers) as pool:
                for _, bad in pool.map(work, starts):
                    slow.extend(bad)
        else:
            for s in starts:
                slow.extend(work(s)[1])
    else:
        slow = []

    for i in slow:
        fa, da = finite_part(a2[i])
        fb, db = finite_part(b2[i])
        dropped["production"] += da
        dropped["candidate"] += db
        n_a[i], n_b[i] = fa.size, fb.size
        if fa.size and fb.size:
            sa, sb = np.sort(fa), np.sort(fb)
            d[i], w1[i] = merged_cdf_gap(sa, sb)
            std[i] = np.std(sa, dtype=np.float64)
            dmean[i] = sb.mean(dtype=np.float64) - sa.mean(dtype=np.float64)
            probs = np.asarray(config.interval)
            qa, qb = sorted_quantiles(sa, probs), sorted_quantiles(sb, probs)
            dwidth[i] = (qb[1] - qb[0]) - (qa[1] - qa[0])
    if not (na and nb):
        n_a[:] = na
        n_b[:] = nb

    stat = np.full(cells, np.nan)
    pval = np.full(cells, np.nan)
    methods: set[str] = set()
    tested = np.isfinite(d)
    pairs = np.stack((n_a, n_b), axis=1)[tested]
    for n1, n2 in np.unique(pairs, axis=0).tolist() if pairs.size else []:
        sel = tested & (n_a == n1) & (n_b == n2)
        s_, p_, used = ks_pvalues(n1, n2, d[sel], config.ks_method)
        stat[sel], pval[sel] = s_, p_
        methods.add(used)

    w1n = w1 / np.maximum(std, config.std_floor)
    q = bh_adjust(pval)
    drifted = np.isfinite(q) & (q <= config.alpha) & (w1n >= config.min_wasserstein_normed)
    shape = (units, steps)
    return DrawsComparison(
        w1=w1.reshape(shape),
        w1_normed=w1n.reshape(shape),
        ks_statistic=stat.reshape(shape),
        ks_p_value=pval.reshape(shape),
        q_value=q.reshape(shape),
        drifted=drifted.reshape(shape),
        mean_change=dmean.reshape(shape),
        width_change=dwidth.reshape(shape),
        n_production=n_a.reshape(shape),
        n_candidate=n_b.reshape(shape),
        dropped=dropped,
        ks_method=sorted(methods),
        config=config,
        unit_ids=None if unit_ids is None else np.asarray(unit_ids),
        first_month=first_month,
    )
