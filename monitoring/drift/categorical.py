"""Categorical columns: chi-square on the 2 x k contingency table, and Jensen-Shannon.

Two samples, one reference and one current, are two rows of a contingency table over the
union of observed categories; Pearson's chi-square test of homogeneity on that table is
``scipy.stats.chi2_contingency(table, correction=False)``. Yates' correction is not applied
(it only exists for 2 x 2 tables and would make the k = 2 case inconsistent with k > 2).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import DEFAULT_CONFIG, DriftConfig, js_base_label
from .numeric import js_distance

#: How many unseen categories are listed by name in a result.
MAX_LISTED_UNSEEN = 20


def _scipy_stats():  # type: ignore[no-untyped-def]
    # scipy.stats takes about a second to import; only a comparison needs it, so every
    # command and page that merely imports the engine starts without it.
    from scipy import stats

    return stats


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and not np.isfinite(v))


def count_categories(values: Iterable[Any]) -> tuple[dict[str, int], int]:
    """Counts per category (keys as strings) and how many missing values were dropped."""
    counts: Counter[str] = Counter()
    dropped = 0
    for v in values:
        if _is_missing(v):
            dropped += 1
        else:
            counts[str(v)] += 1
    return dict(counts), dropped


@dataclass
class CategoricalProfile:
    counts: dict[str, int]
    dropped: int

    @property
    def n(self) -> int:
        return int(sum(self.counts.values()))


def profile_categorical(
    values: Iterable[Any] | Mapping[str, int], *, dropped: int = 0
) -> CategoricalProfile:
    """Profile from raw values, or from already-counted ``{category: count}``."""
    if isinstance(values, Mapping):
        return CategoricalProfile({str(k): int(v) for k, v in values.items() if v}, dropped)
    counts, extra = count_categories(values)
    return CategoricalProfile(counts, dropped + extra)


def chi_square(table: np.ndarray) -> tuple[float, float]:
    """Pearson chi-square statistic and p-value of a 2 x k table with no empty row/column."""
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    stat = float(np.sum((table - expected) ** 2 / expected))
    dof = table.shape[1] - 1
    if dof == 0:
        return 0.0, 1.0
    return stat, float(_scipy_stats().chi2.sf(stat, dof))


def compare_categorical(
    reference: Iterable[Any] | CategoricalProfile,
    current: Iterable[Any] | Mapping[str, int],
    config: DriftConfig = DEFAULT_CONFIG,
    *,
    current_dropped: int = 0,
) -> dict[str, Any]:
    prof = (
        reference if isinstance(reference, CategoricalProfile) else profile_categorical(reference)
    )
    cur = profile_categorical(current, dropped=current_dropped)
    n_ref, n_cur = prof.n, cur.n
    categories = sorted(set(prof.counts) | set(cur.counts))
    unseen = sorted(
        (c for c in cur.counts if c not in prof.counts), key=lambda c: (-cur.counts[c], c)
    )
    if n_ref == 0 and n_cur == 0:
        status = "empty_both"
    elif n_ref == 0:
        status = "empty_reference"
    elif n_cur == 0:
        status = "empty_current"
    elif len(categories) == 1:
        status = "constant_both"
    else:
        status = "ok"
    tests: dict[str, dict[str, Any]] = {
        "chi_square": {"statistic": None, "p_value": None, "dof": None},
        "jensen_shannon": {"value": None},
    }
    if n_ref and n_cur:
        table = np.array(
            [
                [prof.counts.get(c, 0) for c in categories],
                [cur.counts.get(c, 0) for c in categories],
            ],
            dtype=np.float64,
        )
        stat, p = chi_square(table)
        tests["chi_square"] = {"statistic": stat, "p_value": p, "dof": len(categories) - 1}
        tests["jensen_shannon"] = {"value": js_distance(table[0], table[1], config.js_base)}
    return {
        "kind": "categorical",
        "n_reference": n_ref,
        "n_current": n_cur,
        "dropped": {"reference": int(prof.dropped), "current": int(cur.dropped)},
        "status": status,
        "categories": len(categories),
        "unseen_categories": {
            "count": len(unseen),
            "rows": int(sum(cur.counts[c] for c in unseen)),
            "values": {c: cur.counts[c] for c in unseen[:MAX_LISTED_UNSEEN]},
        },
        "tests": tests,
        "conventions": {
            "missing": "None/null and NaN dropped and counted; categories compared as strings",
            "chi_square": {
                "test": "Pearson chi-square of homogeneity on the 2 x k table "
                "(scipy.stats.chi2_contingency, correction=False)",
                "categories": "union of categories seen in either sample",
            },
            "jensen_shannon": {"base": js_base_label(config.js_base), "bins": "categories"},
        },
    }
