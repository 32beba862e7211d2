"""Metric deltas between two runs, judged like the performance check (pure, no Django).

Compare and the candidate page both list them worst first: regressions beyond production's
tolerance, then the largest relative worsening.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from monitoring.validation import metrics


@dataclass(frozen=True)
class MetricDelta:
    """One metric of one model, target and step on both sides (production and candidate,
    or an older and a newer release), judged with production's tolerance."""

    model: str
    target: str
    metric: str
    before: float
    after: float
    direction: str
    step: int | None = None
    tolerance: float = 0.0
    abs_tolerance: float = 0.0

    @property
    def change(self) -> float:
        return self.after - self.before

    @property
    def relative(self) -> float | None:
        return self.change / abs(self.before) if self.before else None

    @property
    def worse_by(self) -> float | None:
        """How much worse `after` is (negative: better); None when the sense does not
        compare (unknown or informational). The performance check's rule."""
        return metrics.worse_by(self.direction, self.after, self.before)

    @property
    def allowed(self) -> float:
        """The change the performance check lets pass: max(tolerance·|before|, abs)."""
        return max(self.tolerance * abs(self.before), self.abs_tolerance)

    @property
    def regressed(self) -> bool:
        """Worse beyond the tolerance: the rule of the performance check."""
        worse = self.worse_by
        if worse is None or not math.isfinite(self.after):
            return False
        return worse > self.allowed + 1e-12 * max(1.0, abs(self.before))

    @property
    def severity(self) -> float:
        """Relative worsening (worse_by / |before|), for ordering; -inf without direction."""
        worse = self.worse_by
        if worse is None or not math.isfinite(worse):
            return -math.inf
        return worse / abs(self.before) if self.before else worse

    @property
    def verdict(self) -> str:
        """regressed (beyond tolerance), worse, better, same or unknown (no direction)."""
        worse = self.worse_by
        if worse is None:
            return "unknown"
        if abs(worse) <= 1e-12 * max(1.0, abs(self.before)):
            return "same"
        if self.regressed:
            return "regressed"
        return "better" if worse < 0 else "worse"


def worst_first(deltas: Sequence[MetricDelta]) -> list[MetricDelta]:
    """Regressions first, then by relative worsening, largest first; unknown direction last."""
    return sorted(
        deltas,
        key=lambda d: (
            not d.regressed,
            -d.severity,
            d.model,
            d.target,
            d.metric,
            -1 if d.step is None else d.step,
        ),
    )
