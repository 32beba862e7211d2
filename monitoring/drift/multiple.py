"""Many tests at once: Benjamini-Hochberg plus a minimum effect size.

With a million rows every real-world column is "significantly" different, so significance
alone would flag everything. A column (or a draw cell) is drifted only when its p-value
survives Benjamini-Hochberg at ``alpha`` across every p-value of the comparison AND one of
its effect sizes reaches the configured minimum.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .config import DEFAULT_CONFIG, DriftConfig

#: Which test supplies the p-value, and which effects may fire, per column kind.
PRIMARY_TEST = {"numeric": "ks", "draws": "ks", "categorical": "chi_square"}
EFFECTS = {
    "numeric": ("wasserstein_normed", "psi"),
    "draws": ("wasserstein_normed", "psi"),
    "categorical": ("jensen_shannon",),
}


def bh_adjust(p_values: ArrayLike) -> NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN entries stay NaN and do not count
    towards the number of tests."""
    p = np.asarray(p_values, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    flat = p[ok]
    order = np.argsort(flat, kind="stable")
    scaled = flat[order] * m / np.arange(1, m + 1)
    # q_(i) = min over j >= i of p_(j) * m / j
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    q[ok] = out
    return q


def _effect_value(result: dict[str, Any], name: str) -> float | None:
    v = result["tests"].get(name, {}).get("value")
    return None if v is None else float(v)


def apply_verdicts(
    results: dict[str, dict[str, Any]], config: DriftConfig = DEFAULT_CONFIG
) -> dict[str, Any]:
    """Add ``q_value``, ``drifted`` and ``reason`` to every column result in place, and
    return the summary."""
    names = list(results)
    pvals = []
    for name in names:
        r = results[name]
        test = PRIMARY_TEST[r["kind"]]
        p = r["tests"].get(test, {}).get("p_value")
        pvals.append(np.nan if p is None else p)
    qvals = bh_adjust(pvals)
    minimum = config.min_effect()
    drifted_n = 0
    statuses: dict[str, int] = {}
    for name, q in zip(names, qvals, strict=True):
        r = results[name]
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
        test = PRIMARY_TEST[r["kind"]]
        if not np.isfinite(q):
            r.update(q_value=None, drifted=False, reason=f"not_tested: status {r['status']}")
            continue
        r["q_value"] = float(q)
        effects = {e: _effect_value(r, e) for e in EFFECTS[r["kind"]]}
        fired = [e for e, v in effects.items() if v is not None and v >= minimum[e]]
        shown = ", ".join(f"{e}={v:.4g}" for e, v in effects.items() if v is not None)
        if q > config.alpha:
            r.update(
                drifted=False, reason=f"not_significant: {test} BH q={q:.3g} > alpha={config.alpha}"
            )
        elif not fired:
            r.update(
                drifted=False,
                reason=f"effect_below_minimum: {test} BH q={q:.3g} <= alpha, but {shown} "
                f"below {', '.join(f'{e}>={minimum[e]}' for e in effects)}",
            )
        else:
            drifted_n += 1
            r.update(
                drifted=True,
                reason=f"significant_and_effect: {test} BH q={q:.3g} <= "
                f"alpha={config.alpha} and "
                + ", ".join(f"{e}={effects[e]:.4g}>={minimum[e]}" for e in fired),
            )
        r["conventions"]["verdict"] = {
            "p_value_from": test,
            "multiple_testing": "benjamini-hochberg",
            "alpha": config.alpha,
            "effects": {e: minimum[e] for e in effects},
            "rule": "drifted = BH q <= alpha and any effect >= its minimum",
        }
    return {
        "columns": len(names),
        "tested": int(np.isfinite(qvals).sum()),
        "drifted": drifted_n,
        "method": "benjamini-hochberg",
        "alpha": config.alpha,
        "min_effect": minimum,
        "statuses": statuses,
    }
