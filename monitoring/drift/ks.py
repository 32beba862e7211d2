"""Two-sample Kolmogorov-Smirnov p-values, matching ``scipy.stats.ks_2samp`` (two-sided).

ks_2samp's rule, reproduced here: method 'auto' uses the exact null distribution when
``max(n1, n2) <= 10_000`` and otherwise Smirnov's asymptotic one, ``kstwo.sf(d, round(en))``
with ``en = n1*n2/(n1+n2)``. In exact mode the statistic is snapped to the lattice
``h / lcm(n1, n2)`` that the exact distribution lives on, as scipy does.

The exact distribution is computed here, not borrowed from scipy's private helpers, and is
vectorised over many statistics at once, because the draws comparison needs a p-value for
hundreds of thousands of cells that share the same (n1, n2).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from .config import KS_MAX_EXACT_N

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _scipy_stats():  # type: ignore[no-untyped-def]
    # scipy.stats takes about a second to import; only a comparison needs it, so every
    # command and page that merely imports the engine starts without it.
    from scipy import stats

    return stats


def resolve_method(n1: int, n2: int, method: str = "auto") -> str:
    """The p-value method ks_2samp would use for these sample sizes."""
    if method == "auto":
        return "exact" if max(n1, n2) <= KS_MAX_EXACT_N else "asymp"
    if method == "exact":
        g = math.gcd(n1, n2)
        # scipy gives up on exact when the lattice size overflows int32.
        if n1 // g >= np.iinfo(np.int32).max / (n2 // g):
            return "asymp"
    return method


def lattice(n1: int, n2: int, d: FloatArray) -> IntArray:
    """The integer h with d == h / lcm(n1, n2), rounded as scipy rounds it."""
    lcm = (n1 // math.gcd(n1, n2)) * n2
    return np.round(np.asarray(d, dtype=np.float64) * lcm).astype(np.int64)


def _exact_sf_equal(n: int, h: IntArray) -> FloatArray:
    """P(D >= h/n) for two samples of size n, by the reflection principle.

    P = 2 * sum_{k>=1} (-1)^(k-1) C(2n, n-kh) / C(2n, n), evaluated as the nested product
    2*A0*(1 - A1*(1 - A2*(...))) in plain double arithmetic, in the order scipy uses. The
    order matters beyond accuracy: for small h this sum can round to just above 1, which
    ks_2samp treats as a failed exact computation and answers asymptotically instead;
    reproducing the roundoff reproduces that switch (``ks_pvalues`` handles it).
    Not clipped.
    """
    out = np.ones(h.shape, dtype=np.float64)
    for i, hv in enumerate(h.tolist()):
        if hv <= 0:
            continue
        total = 0.0
        for k in range(n // hv, -1, -1):
            term = 1.0
            for j in range(hv):
                term = (n - k * hv - j) * term / (n + k * hv + j + 1)
            total = term * (1.0 - total)
        out[i] = 2 * total
    return out


def _exact_sf_unequal(n1: int, n2: int, h: IntArray) -> FloatArray:
    """P(D >= h/lcm) for samples of sizes n1 != n2, by dynamic programming over lattice paths.

    Under the null every interleaving of the two samples is equally likely: a uniform random
    monotone path from (0, 0) to (n1, n2). We carry the probability of being at each point
    of an anti-diagonal x + y = k having stayed strictly inside the band
    |x*n2 - y*n1| < h*g, so every number stays in [0, 1] (no overflow, no scaling), and all
    requested h are advanced together.
    """
    if n1 > n2:  # the distribution is symmetric; keep the shorter axis as the vector
        n1, n2 = n2, n1
    g = math.gcd(n1, n2)
    out = np.ones(h.shape, dtype=np.float64)
    positive = h > 0
    hs = h[positive]
    if hs.size == 0:
        return out
    limit = hs * g
    total = n1 + n2
    x = np.arange(n1 + 1, dtype=np.int64)
    p = np.zeros((hs.size, n1 + 1))
    p[:, 0] = 1.0
    hmax = int(limit.max())
    for k in range(total):
        rest = total - k
        # Only points inside the widest band can carry probability: slice to that window.
        lo = max(0, k + 1 - n2, (k * n1 - hmax) // total - 1)
        hi = min(n1, k + 1, (((k + 1) * n1 + hmax) // total) + 1)
        xs = x[lo : hi + 1]
        y_prev = k - xs
        stay = np.clip(n2 - y_prev, 0, None) / rest  # step in y from (x, k-x)
        new = p[:, lo : hi + 1] * stay
        if lo == 0:
            new[:, 1:] += p[:, lo:hi] * ((n1 - xs[:-1]) / rest)
        else:
            new += p[:, lo - 1 : hi] * ((n1 - (xs - 1)) / rest)
        y_new = k + 1 - xs
        inside = np.abs(xs * n2 - y_new * n1)[None, :] < limit[:, None]
        inside &= (y_new >= 0)[None, :]
        new *= inside
        p[:, lo : hi + 1] = new
        # Points left behind by the window must not be read again.
        if lo > 0:
            p[:, :lo] = 0.0
    out[positive] = 1.0 - p[:, n1]
    return out


def exact_sf(n1: int, n2: int, h: IntArray) -> FloatArray:
    """Two-sided exact P(D >= h / lcm(n1, n2)) for each integer h, not clipped: a value
    outside [0, 1] is a rounding failure that ks_2samp answers asymptotically."""
    h = np.asarray(h, dtype=np.int64)
    # Many cells share few distinct h: compute each distinct value once.
    distinct, inverse = np.unique(h, return_inverse=True)
    if n1 == n2:
        sf = _exact_sf_equal(n1, distinct)
    else:
        sf = _exact_sf_unequal(n1, n2, distinct)
    return sf[inverse].reshape(h.shape)


def asymp_sf(n1: int, n2: int, d: FloatArray) -> FloatArray:
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = float(np.round(m * n / (m + n)))
    d = np.asarray(d, dtype=np.float64)
    values, inverse = np.unique(d, return_inverse=True)
    return np.clip(_scipy_stats().kstwo.sf(values, en), 0.0, 1.0)[inverse].reshape(d.shape)


def ks_pvalues(
    n1: int, n2: int, d: FloatArray, method: str = "auto"
) -> tuple[FloatArray, FloatArray, str]:
    """(statistic, p-value, method used) for raw statistics ``d`` of one (n1, n2) pair.

    The method is "exact", "asymp", or "exact+asymp" when some exact values fell outside
    [0, 1] and were replaced by the asymptotic ones, as ks_2samp does (with a warning).
    """
    used = resolve_method(n1, n2, method)
    d = np.asarray(d, dtype=np.float64)
    if used != "exact":
        return d, asymp_sf(n1, n2, d), used
    h = lattice(n1, n2, d)
    lcm = (n1 // math.gcd(n1, n2)) * n2
    snapped = h / lcm
    p = exact_sf(n1, n2, h)
    failed = ~((p >= 0.0) & (p <= 1.0))
    if failed.any():
        p = p.copy()
        p[failed] = asymp_sf(n1, n2, snapped[failed])
        used = "exact+asymp"
    return snapped, p, used
