"""Is one forecast's skill different from another's, beyond noise? (No Django import.)

For each step, the loss differential of a cell is `score(candidate) - score(reference)`,
paired on the same unit and month. Cells of one month share a month's events, and months
follow each other, so the test runs on the months' mean differentials d_1..d_T:

- T >= 3: Diebold-Mariano with the Harvey-Leybourne-Newbold correction. The long-run
  variance adds autocovariances up to lag L = min(step - 1, T // 4) (forecast errors of an
  h-step forecast overlap h - 1 months; a short record cannot estimate more), and the
  statistic is scaled by sqrt((T + 1 - 2h + h(h - 1) / T) / T) with h = L + 1 and compared
  with Student's t on T - 1 degrees of freedom.
- T < 3 (one forecast origin: a month per step): the units' differentials in that month,
  paired t on n - 1 degrees of freedom. Units are then treated as independent, which
  neighbouring units are not; the details say which test ran.

p-values of all steps are adjusted with Benjamini-Hochberg; a step is "better" or "worse"
when its q-value is below alpha, else "no detectable difference". Each verdict carries the
mean differential and its (1 - alpha) interval.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from monitoring.drift import bh_adjust

BETTER, SAME, WORSE = "better", "no detectable difference", "worse"


@dataclass
class StepTest:
    step: int
    months: int
    cells: int
    candidate: float  # mean score
    reference: float
    difference: float  # candidate - reference (negative: candidate better for a loss)
    low: float
    high: float
    statistic: float
    p_value: float
    q_value: float
    test: str
    verdict: str

    def as_dict(self) -> dict[str, Any]:
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in asdict(self).items()
        }


def _dm_hln(d: NDArray[np.float64], step: int, alpha: float) -> tuple[float, float, float, str]:
    t = len(d)
    lag = min(step - 1, t // 4)
    centred = d - d.mean()
    variance = float(centred @ centred) / t
    for k in range(1, lag + 1):
        variance += 2.0 * float(centred[k:] @ centred[:-k]) / t
    if variance <= 0:
        return _degenerate(d)
    se = math.sqrt(variance / t)
    h = lag + 1
    correction = math.sqrt(max((t + 1 - 2 * h + h * (h - 1) / t) / t, 1e-12))
    statistic = float(d.mean()) / se * correction
    p = 2.0 * float(stats.t.sf(abs(statistic), df=t - 1))
    half = float(stats.t.ppf(1 - alpha / 2, df=t - 1)) * se / correction
    return statistic, p, half, f"Diebold-Mariano (HLN), {t} months, lag {lag}"


def _paired_t(d: NDArray[np.float64], alpha: float) -> tuple[float, float, float, str]:
    n = len(d)
    if n < 2:
        return math.nan, math.nan, math.nan, "too few cells"
    sd = float(d.std(ddof=1))
    if sd == 0:
        return _degenerate(d)
    se = sd / math.sqrt(n)
    statistic = float(d.mean()) / se
    p = 2.0 * float(stats.t.sf(abs(statistic), df=n - 1))
    half = float(stats.t.ppf(1 - alpha / 2, df=n - 1)) * se
    return statistic, p, half, f"paired t over {n} units (one month: units taken as independent)"


def _degenerate(d: NDArray[np.float64]) -> tuple[float, float, float, str]:
    """No spread: identical forecasts (p = 1), or a constant non-zero difference (p = 0)."""
    mean = float(d.mean())
    if mean == 0:
        return 0.0, 1.0, 0.0, "identical scores"
    return math.copysign(math.inf, mean), 0.0, 0.0, "a constant difference"


def compare_steps(
    candidate: NDArray[np.float64],
    reference: NDArray[np.float64],
    steps: NDArray[np.int64],
    months: NDArray[np.int64],
    *,
    alpha: float = 0.05,
) -> list[StepTest]:
    """Paired cell scores (lower is better) -> one test per step, BH-adjusted across steps."""
    d = np.asarray(candidate, dtype=np.float64) - np.asarray(reference, dtype=np.float64)
    found: list[StepTest] = []
    for step in np.unique(steps):
        here = steps == step
        month_ids, inverse = np.unique(months[here], return_inverse=True)
        if len(month_ids) >= 3:
            sums = np.bincount(inverse, weights=d[here])
            monthly = sums / np.bincount(inverse)
            statistic, p, half, test = _dm_hln(monthly, int(step), alpha)
        else:
            statistic, p, half, test = _paired_t(d[here], alpha)
        mean = float(d[here].mean())
        found.append(
            StepTest(
                step=int(step),
                months=len(month_ids),
                cells=int(here.sum()),
                candidate=float(candidate[here].mean()),
                reference=float(reference[here].mean()),
                difference=mean,
                low=mean - half,
                high=mean + half,
                statistic=statistic,
                p_value=p,
                q_value=math.nan,
                test=test,
                verdict=SAME,
            )
        )
    q = bh_adjust([item.p_value for item in found])
    for item, value in zip(found, q, strict=True):
        item.q_value = float(value)
        if math.isfinite(value) and value < alpha:
            item.verdict = BETTER if item.difference < 0 else WORSE
    return found


def overall_verdict(tests: list[StepTest]) -> str:
    """Worse at any step beats better elsewhere: a gate must not trade steps."""
    verdicts = {item.verdict for item in tests}
    if WORSE in verdicts:
        return WORSE
    if BETTER in verdicts:
        return BETTER
    return SAME
