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


_PI2 = math.pi**2
_SQRT_2PI = math.sqrt(2 * math.pi)


def _pelz_good_cdf(n: int, x: float) -> float:
    """Pelz & Good's (1976) approximation of P(D_n <= x): the Li-Chien/Korolyuk expansion
    K0 + K1/sqrt(n) + K2/n + K3/n^1.5 in z = x*sqrt(n), each term rewritten with Jacobi theta
    functions so that it converges for small z. Terms as Simard & L'Ecuyer (2011) give them."""
    z = math.sqrt(n) * x
    z2 = z * z
    log_q = -_PI2 / 8 / z2
    if log_q < -708:
        return 0.0
    q = math.exp(log_q)
    # Coefficients of the odd-m series (m = 2k - 1) for K0..K3.
    c1 = (-z2, _PI2 / 4)
    c2 = (6 * z**6 + 2 * z**4, (2 * z**4 - 5 * z2) * _PI2 / 4, math.pi**4 * (1 - 2 * z2) / 16)
    c3 = (
        -30 * z**6 - 90 * z**8,
        _PI2 * (135 * z**4 - 96 * z**6) / 4,
        math.pi**4 * (-60 * z2 + 212 * z**4) / 16,
        math.pi**6 * (5 - 30 * z2) / 64,
    )
    top = int(math.ceil(16 * z / math.pi))
    k_terms = np.zeros(4)
    for k in range(top, 0, -1):  # Horner in q^(8k), from the smallest term
        m2 = float((2 * k - 1) ** 2)
        k_terms *= q ** (8 * k)
        k_terms += np.array(
            [
                1.0,
                c1[0] + c1[1] * m2,
                c2[0] + c2[1] * m2 + c2[2] * m2 * m2,
                c3[0] + c3[1] * m2 + c3[2] * m2 * m2 + c3[3] * m2 * m2 * m2,
            ]
        )
    k_terms *= q * _SQRT_2PI
    k_terms /= np.array([z, 6 * z**4, 72 * z**7, 6480 * z**10])
    # The even-m corrections of K2 and K3.
    q2 = math.exp(-_PI2 / 2 / z2)
    ks = np.arange(top, 0, -1, dtype=np.float64)
    ks2 = ks**2
    weights = ks2 * q2**ks2
    k_terms[2] += float(np.sum(weights)) * _PI2 * _SQRT_2PI / (-36 * z**3)
    s3z, kpi = math.sqrt(3) * z, math.pi * ks
    k_terms[3] += (
        float(np.sum((s3z + kpi) * (s3z - kpi) * weights)) * _PI2 * _SQRT_2PI / (216 * z**6)
    )
    k_terms /= np.power(float(n), np.arange(4) / 2.0)
    return float(np.sum(k_terms))


def _kstwo_sf_one(n: int, x: float) -> float | None:
    """P(D_n >= x) of the one-sample two-sided KS statistic, by Simard & L'Ecuyer's (2011)
    choice of method, as scipy.stats.kstwo.sf makes it, for the cases that need no matrix
    recursion (n > 140 and outside the Durbin-matrix region). None: not handled here."""
    if x >= 1.0:
        return 0.0
    if x <= 0.0:
        return 1.0
    t = n * x
    if n <= 140:
        return None
    if t <= 1.0:  # Ruben & Gambino: P(D_n <= x) = n!/n^n (2t - 1)^n for 1/2n <= x <= 1/n
        if t <= 0.5:
            return 1.0
        rn = 1.0 / n
        stirling = rn * float(np.polyval(_STIRLING, rn / n))
        log_ratio = math.log(n) / 2 - n + math.log(2 * math.pi) / 2 + stirling
        return min(max(1.0 - math.exp(log_ratio + n * math.log(2 * t - 1)), 0.0), 1.0)
    if t >= n - 1:
        return min(max(2 * (1.0 - x) ** n, 0.0), 1.0)
    t_x = t * x
    if x >= 0.5 or 2.2 <= t_x < 370.0:
        return min(max(2 * float(_smirnov()(n, x)), 0.0), 1.0)
    if t_x >= 370.0:
        return 0.0
    if n <= 100_000 and n * x**1.5 <= 1.4:
        return None  # Durbin's matrix method: left to scipy
    return min(max(1.0 - _pelz_good_cdf(n, x), 0.0), 1.0)


#: Stirling series of log(n!/n^n) beyond its leading terms (the same coefficients scipy uses).
_STIRLING = [
    -2.955065359477124183e-2,
    6.4102564102564102564e-3,
    -1.9175269175269175269e-3,
    8.4175084175084175084e-4,
    -5.952380952380952381e-4,
    7.9365079365079365079e-4,
    -2.7777777777777777778e-3,
    8.3333333333333333333e-2,
]


def _smirnov():  # type: ignore[no-untyped-def]
    # scipy.special alone imports in a fifth of scipy.stats' time.
    from scipy.special import smirnov

    return smirnov


def kstwo_sf(n: int, d: FloatArray) -> FloatArray:
    """scipy.stats.kstwo.sf(d, n), computed here where no matrix recursion is needed (the
    large samples the asymptotic KS serves), else by scipy."""
    d = np.asarray(d, dtype=np.float64)
    values, inverse = np.unique(d, return_inverse=True)
    out = np.empty(values.shape)
    rest = []
    for i, x in enumerate(values.tolist()):
        p = _kstwo_sf_one(int(n), x) if math.isfinite(x) else None
        if p is None:
            rest.append(i)
        else:
            out[i] = p
    if rest:
        out[rest] = _scipy_stats().kstwo.sf(values[rest], n)
    return out[inverse].reshape(d.shape)


def asymp_sf(n1: int, n2: int, d: FloatArray) -> FloatArray:
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = int(np.round(m * n / (m + n)))
    return np.clip(kstwo_sf(en, d), 0.0, 1.0)


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
