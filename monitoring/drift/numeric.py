"""Numeric columns: KS, normalised Wasserstein-1, PSI and Jensen-Shannon from sorted samples.

Everything starts from the two samples sorted once. Their merge (a stable argsort of the two
sorted runs, which numpy's timsort does in linear time) yields both empirical CDFs at every
point, hence the KS statistic and W1 in one pass; PSI and Jensen-Shannon bin counts come from
``searchsorted`` of the few bin edges into the sorted arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .config import DEFAULT_CONFIG, DriftConfig, js_base_label
from .ks import ks_pvalues

FloatArray = NDArray[np.floating[Any]]


def finite_part(values: ArrayLike) -> tuple[NDArray[Any], int]:
    """Finite values (float32 stays float32, anything else becomes float64) and how many
    NaN/±inf were dropped."""
    arr = np.asarray(values)
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64, copy=False)
    arr = arr.ravel()
    mask = np.isfinite(arr)
    kept = arr[mask] if not mask.all() else arr
    return kept, int(arr.size - kept.size)


def sorted_quantiles(s: NDArray[Any], probs: NDArray[np.float64]) -> NDArray[np.float64]:
    """np.quantile(s, probs) ('linear' method) along the last axis of already-sorted data."""
    n = s.shape[-1]
    pos = (n - 1) * np.asarray(probs, dtype=np.float64)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    t = pos - lo
    a = s[..., lo].astype(np.float64)
    b = s[..., hi].astype(np.float64)
    diff = b - a
    # numpy's lerp: interpolate from the nearer end for accuracy
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)


def _nonzero_quantiles(s: NDArray[Any], probs: NDArray[np.float64]) -> NDArray[np.float64]:
    """Quantiles of the non-zero values of sorted ``s`` without copying them out."""
    z_lo, z_hi = np.searchsorted(s, 0.0, "left"), np.searchsorted(s, 0.0, "right")
    nz = s.size - (z_hi - z_lo)
    if nz == 0:
        return np.empty(0)
    pos = (nz - 1) * probs
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, nz - 1)
    t = pos - lo

    def at(i: NDArray[np.int64]) -> NDArray[np.float64]:
        return s[np.where(i < z_lo, i, i + (z_hi - z_lo))].astype(np.float64)

    a, b = at(lo), at(hi)
    diff = b - a
    return np.where(t >= 0.5, b - diff * (1 - t), a + diff * t)


def psi_edges(sorted_ref: NDArray[Any], bins: int) -> NDArray[np.float64]:
    """Interior edges of the reference-quantile bins of the non-zero reference values,
    duplicates removed (ties in count data collapse bins)."""
    probs = np.arange(1, bins) / bins
    return np.unique(_nonzero_quantiles(sorted_ref, probs))


def bin_counts(sorted_x: NDArray[Any], edges: NDArray[np.float64]) -> NDArray[np.int64]:
    """Counts in [exact zeros, (-inf, e1], (e1, e2], ..., (e_last, inf) without the zeros]."""
    n = sorted_x.size
    zeros = int(np.searchsorted(sorted_x, 0.0, "right") - np.searchsorted(sorted_x, 0.0, "left"))
    at_or_below = np.searchsorted(sorted_x, edges, side="right")
    counts = np.diff(np.concatenate(([0], at_or_below, [n]))).astype(np.int64)
    counts[np.searchsorted(edges, 0.0, side="left")] -= zeros
    return np.concatenate(([zeros], counts)).astype(np.int64)


def psi_value(ref_counts: NDArray[Any], cur_counts: NDArray[Any], floor: float) -> float:
    r = ref_counts / ref_counts.sum()
    c = cur_counts / cur_counts.sum()
    r = np.where(ref_counts == 0, floor, r)
    c = np.where(cur_counts == 0, floor, c)
    return float(np.sum((c - r) * np.log(c / r)))


def js_distance(p_counts: NDArray[Any], q_counts: NDArray[Any], base: float) -> float:
    """scipy.spatial.distance.jensenshannon on two count vectors over the same bins."""
    p = p_counts / np.sum(p_counts)
    q = q_counts / np.sum(q_counts)
    m = (p + q) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0, p * np.log(p / m), 0.0)
        right = np.where(q > 0, q * np.log(q / m), 0.0)
    js = float(np.sum(left) + np.sum(right))
    if base != np.e:
        js /= np.log(base)
    return float(np.sqrt(max(js, 0.0) / 2.0))


def cdf_gap_scaled(from_b: NDArray[np.bool_], na: int, nb: int) -> NDArray[np.signedinteger[Any]]:
    """|F_a - F_b| * na * nb along the last axis of a merged sample, as exact integers.

    ``from_b`` marks which merged values came from b. With c_b candidates and i+1 values seen,
    F_a - F_b = ((i+1-c_b)*nb - c_b*na) / (na*nb): integers keep it exact and cheap, and the
    single division happens once per statistic.
    """
    total = na + nb
    dtype: type[np.signedinteger[Any]] = np.int32 if total * max(na, nb) < 2**31 else np.int64
    cum_b: NDArray[np.signedinteger[Any]] = np.cumsum(from_b, axis=-1, dtype=dtype)
    seen: NDArray[np.signedinteger[Any]] = np.arange(1, total + 1, dtype=dtype)
    scaled = seen * nb - cum_b * total
    return np.abs(scaled, out=scaled)


#: Merged values handled per step of ``merged_cdf_gap``. Its work buffers take about 50 bytes
#: a value, so a block of 8192 (~420 KB) stays in one core's L2 cache; one pass per operation
#: over full-length temporaries (16 MB each for 2 x 1M values) was memory-bound and cost
#: as much as the merge itself.
MERGE_BLOCK = 8192


def merged_cdf_gap(
    a: NDArray[Any], b: NDArray[Any], block: int = MERGE_BLOCK
) -> tuple[float, float]:
    """(KS statistic, W1) of two sorted non-empty 1-D samples.

    F_a - F_b is evaluated at the end of every run of tied values of the merged sample,
    which is exactly where ks_2samp's ``searchsorted(side='right')`` evaluates it; between
    runs the gap is constant, which gives W1 as sum |F_a - F_b| * spacing (zero spacings
    inside ties contribute nothing).

    Only the merge order is materialised at full length; the statistics are accumulated
    block by block in small reused buffers. The scaled gap |F_a - F_b| * na * nb is an exact
    int64 (see ``cdf_gap_scaled``), so the KS statistic is one exact division at the end.
    """
    na, nb = a.size, b.size
    total = na + nb
    cat = np.concatenate((a, b))
    # Timsort merges the two sorted runs in linear time (measured faster here than ranking one
    # side into the other with searchsorted and scattering).
    order = np.argsort(cat, kind="stable")
    size = min(block, total)
    # Buffers allocated once and reused by every block: fresh allocations above glibc's mmap
    # threshold (128 KB) would be page-faulted in again on every block.
    values = np.empty(size + 1, dtype=cat.dtype)
    from_b = np.empty(size, dtype=bool)
    gap = np.empty(size, dtype=np.int64)
    gap_f = np.empty(size, dtype=np.float64)
    spacing = np.empty(size, dtype=np.float64)
    run_end = np.empty(size, dtype=bool)
    seen_nb = np.arange(1, size + 1, dtype=np.int64) * nb  # (i + 1) * nb inside a block
    d_scaled = 0
    w1_scaled = 0.0
    b_before = 0  # values of b merged before the current block
    for start in range(0, total, size):
        n = min(size, total - start)
        idx = order[start : start + n + 1]  # one value past the block, for its last spacing
        k = idx.size - 1  # spacings in this block: n, or n - 1 in the last block
        # mode="clip" lets take write straight into ``out`` (the default buffers a copy)
        v = np.take(cat, idx, out=values[: k + 1], mode="clip")
        # gap_i = (i + 1) * nb - (b values among the first i + 1) * (na + nb)
        g = np.cumsum(np.greater_equal(idx[:n], na, out=from_b[:n]), dtype=np.int64, out=gap[:n])
        g += b_before
        b_before = int(g[-1])
        g *= total
        np.subtract(seen_nb[:n], g, out=g)
        g += start * nb
        np.abs(g, out=g)
        # Spacings in float64 even for float32 samples, as ks_2samp/wasserstein_distance do.
        s = np.subtract(v[1:], v[:-1], out=spacing[:k], dtype=np.float64)
        ends = np.not_equal(s, 0.0, out=run_end[:k])
        d_scaled = max(d_scaled, int(np.max(g[:k], where=ends, initial=0)))
        gf = gap_f[:k]
        gf[...] = g[:k]  # np.dot wants one dtype; exact below 2**53, W1 is a float sum anyway
        w1_scaled += float(np.dot(gf, s))
    d_scaled = max(d_scaled, int(gap[n - 1]))  # the last merged value ends its run
    return d_scaled / (na * nb), w1_scaled / (na * nb)


#: Keys searched per step of ``_sorted_positions``: a block of sorted keys lands in a short
#: stretch of the sorted haystack, which then stays in cache for the whole block.
SEARCH_BLOCK = 1024


def _sorted_positions(haystack: NDArray[Any], keys: NDArray[Any]) -> NDArray[np.int64]:
    """np.searchsorted(haystack, keys, "left") for sorted keys, block by block."""
    out = np.empty(keys.size, dtype=np.int64)
    if keys.size <= SEARCH_BLOCK:
        out[:] = np.searchsorted(haystack, keys, "left")
        return out
    bounds = np.searchsorted(haystack, keys[::SEARCH_BLOCK], "left").tolist()
    bounds.append(haystack.size)
    for k, start in enumerate(range(0, keys.size, SEARCH_BLOCK)):
        lo, hi = bounds[k], bounds[k + 1]
        block = out[start : start + SEARCH_BLOCK]
        block[...] = np.searchsorted(haystack[lo:hi], keys[start : start + SEARCH_BLOCK], "left")
        block += lo
    return out


#: Distinct reference values per block of ``sorted_ks_statistic``'s bound-and-refine pass.
KS_BLOCK = 64


def _counts_below_and_upto(
    b: NDArray[Any], keys: NDArray[Any]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(#b < key, #b <= key) for sorted distinct keys: one search, and a second one only
    for the keys that b also holds."""
    below = _sorted_positions(b, keys)
    inside = below < b.size
    tied = np.zeros(keys.size, dtype=bool)
    tied[inside] = b[below[inside]] == keys[inside]
    upto = below.copy()
    if tied.any():
        upto[tied] = np.searchsorted(b, keys[tied], "right")
    return below, upto


def sorted_ks_statistic(a: NDArray[Any], b: NDArray[Any], block: int = KS_BLOCK) -> float:
    """The two-sample KS statistic of two sorted non-empty 1-D samples, without a merge.

    F_a changes only at the distinct values u_k of a (A_k values of a are <= u_k). On
    [u_k, u_k+1), |F_a - F_b| is extreme where F_b is: at u_k itself (counts of b <= u_k) or
    just below u_k+1 (counts of b < u_k+1), both attained at sample points; below u_0 the
    extreme is at the largest b < u_0, above the last u at the last u. Every such value is
    |A*nb - B*na| / (na*nb) in exact integers.

    Bound and refine: the counts are first found at every ``block``-th u only. Inside a
    block A and B stay between their values at the block's ends, which bounds every
    |A*nb - B*na| in it; only blocks whose bound reaches the best exact value found so far
    are searched value by value (near the supremum: a few percent of the blocks).
    """
    na, nb = a.size, b.size
    last = np.append(np.flatnonzero(a[1:] != a[:-1]), na - 1)  # end of each run of ties
    u = a[last]
    count_a = last + 1
    size = u.size
    bounds = np.unique(np.append(np.arange(0, size, block), size - 1))
    below, upto = _counts_below_and_upto(b, u[bounds])
    # exact values at the block ends, and below u_0
    best = max(int(below[0]) * na, int(np.max(np.abs(count_a[bounds] * nb - upto * na))))
    if bounds.size > 1:
        lo_a, hi_a = count_a[bounds[:-1]], count_a[bounds[1:] - 1]
        lo_b, hi_b = below[:-1], below[1:]
        bound = np.maximum(hi_a * nb - lo_b * na, hi_b * na - lo_a * nb)
        refine = np.flatnonzero(bound >= best)
        if refine.size:
            starts, stops = bounds[refine], bounds[refine + 1]  # stops included
            lengths = stops - starts + 1
            idx = np.repeat(starts - np.cumsum(np.append(0, lengths[:-1])), lengths)
            idx += np.arange(int(lengths.sum()))
            idx = np.unique(idx)
            sub_below, sub_upto = _counts_below_and_upto(b, u[idx])
            best = max(best, int(np.max(np.abs(count_a[idx] * nb - sub_upto * na))))
            nxt = np.flatnonzero(idx[1:] == idx[:-1] + 1)  # consecutive u: the value before
            if nxt.size:
                before = np.abs(count_a[idx[nxt]] * nb - sub_below[nxt + 1] * na)
                best = max(best, int(before.max()))
    return best / (na * nb)


def sorted_wasserstein(a: NDArray[Any], b: NDArray[Any]) -> float:
    """W1 of two sorted non-empty 1-D samples as the integral of |Q_a(u) - Q_b(u)| over u.

    The quantile functions are steps at i/na and j/nb; on the scale na*nb these are the
    multiples of nb and of na, whose merged order is arithmetic (no comparison of data), so
    W1 is one gather and one dot product. Equal sizes reduce to mean |a_i - b_i|.
    """
    na, nb = a.size, b.size
    if na == nb:
        return float(np.mean(np.abs(np.subtract(a, b, dtype=np.float64))))
    i = np.arange(na + 1, dtype=np.int64)
    j = np.arange(nb + 1, dtype=np.int64)
    grid_a, grid_b = i * nb, j * na
    merged = np.empty(na + nb + 2, dtype=np.int64)
    # position of i*nb: i + #{j : j*na < i*nb}; of j*na: j + #{i : i*nb <= j*na}
    merged[i + (grid_a + na - 1) // na] = grid_a
    merged[j + grid_b // nb + 1] = grid_b
    start = merged[:-1]
    width = np.diff(merged).astype(np.float64)
    qa = a[np.minimum(start // nb, na - 1)].astype(np.float64)
    qb = b[np.minimum(start // na, nb - 1)].astype(np.float64)
    return float(np.dot(width, np.abs(qa - qb))) / (na * nb)


@dataclass
class NumericProfile:
    """What a reference contributes to every comparison, computed once."""

    sorted_values: NDArray[Any]
    dropped: int
    std: float
    edges: NDArray[np.float64]
    counts: NDArray[np.int64]
    bins: int

    @property
    def n(self) -> int:
        return int(self.sorted_values.size)


def profile_numeric(
    values: ArrayLike,
    config: DriftConfig = DEFAULT_CONFIG,
    *,
    dropped: int = 0,
    assume_sorted_finite: bool = False,
) -> NumericProfile:
    """Profile a reference sample (NaN/inf dropped and counted, values sorted, PSI bins)."""
    if assume_sorted_finite:
        s = np.asarray(values)
        extra = 0
    else:
        kept, extra = finite_part(values)
        s = np.sort(kept)
    std = float(np.std(s, dtype=np.float64)) if s.size else float("nan")
    edges = psi_edges(s, config.psi_bins) if s.size else np.empty(0)
    counts = bin_counts(s, edges) if s.size else np.zeros(edges.size + 2, dtype=np.int64)
    return NumericProfile(s, dropped + extra, std, edges, counts, config.psi_bins)


def _status(ref: NDArray[Any], cur: NDArray[Any]) -> str:
    if ref.size == 0 and cur.size == 0:
        return "empty_both"
    if ref.size == 0:
        return "empty_reference"
    if cur.size == 0:
        return "empty_current"
    ref_const = ref[0] == ref[-1]
    cur_const = cur[0] == cur[-1]
    if ref_const and cur_const:
        return "constant_both"
    if ref_const:
        return "constant_reference"
    if cur_const:
        return "constant_current"
    return "ok"


def numeric_conventions(
    config: DriftConfig, profile: NumericProfile, ks_method: str | None
) -> dict[str, Any]:
    return {
        "nonfinite": "NaN and ±inf dropped and counted",
        "ks": {
            "test": "two-sample Kolmogorov-Smirnov, two-sided (scipy.stats.ks_2samp)",
            "method": ks_method,
            "auto_rule": "exact if max(n_reference, n_current) <= 10000 else asymptotic",
        },
        "wasserstein_normed": {
            "definition": "W1 / max(population std of reference, floor)",
            "std_floor": config.std_floor,
            "reference_std": profile.std if np.isfinite(profile.std) else None,
        },
        "psi": {
            "bins": profile.bins,
            "binning": "quantiles of the non-zero reference values, bins (e_i, e_i+1], "
            "plus one bin for exact zeros",
            "edges": profile.edges.tolist(),
            "floor": config.psi_floor,
            "floor_applies_to": "empty bins (proportion 0)",
        },
        "jensen_shannon": {
            "definition": "scipy.spatial.distance.jensenshannon (a distance, not divergence)",
            "base": js_base_label(config.js_base),
            "bins": "the PSI bins",
        },
    }


def compare_numeric(
    reference: ArrayLike | NumericProfile,
    current: ArrayLike,
    config: DriftConfig = DEFAULT_CONFIG,
    *,
    current_dropped: int = 0,
    current_sorted_finite: bool = False,
) -> dict[str, Any]:
    """Compare a numeric current sample with a reference (array or NumericProfile).

    Returns the per-column result without the multiple-testing verdict (see
    ``multiple.apply_verdicts``): kind, sizes, dropped counts, status, tests, conventions.
    """
    prof = (
        reference if isinstance(reference, NumericProfile) else profile_numeric(reference, config)
    )
    if current_sorted_finite:
        cur = np.asarray(current)
        cur_dropped = current_dropped
    else:
        kept, extra = finite_part(current)
        cur = np.sort(kept)
        cur_dropped = current_dropped + extra
    ref = prof.sorted_values
    status = _status(ref, cur)
    tests: dict[str, dict[str, Any]] = {
        "ks": {"statistic": None, "p_value": None},
        "wasserstein_normed": {"value": None, "raw": None},
        "psi": {"value": None},
        "jensen_shannon": {"value": None},
    }
    method_used = None
    if ref.size and cur.size:
        d, w1 = sorted_ks_statistic(ref, cur), sorted_wasserstein(ref, cur)
        stat, p, method_used = ks_pvalues(ref.size, cur.size, np.array([d]), config.ks_method)
        tests["ks"] = {"statistic": float(stat[0]), "p_value": float(p[0])}
        tests["wasserstein_normed"] = {
            "value": w1 / max(prof.std, config.std_floor),
            "raw": w1,
        }
        cur_counts = bin_counts(cur, prof.edges)
        tests["psi"] = {"value": psi_value(prof.counts, cur_counts, config.psi_floor)}
        tests["jensen_shannon"] = {"value": js_distance(prof.counts, cur_counts, config.js_base)}
    return {
        "kind": "numeric",
        "n_reference": int(ref.size),
        "n_current": int(cur.size),
        "dropped": {"reference": int(prof.dropped), "current": int(cur_dropped)},
        "status": status,
        "tests": tests,
        "conventions": numeric_conventions(config, prof, method_used),
    }
