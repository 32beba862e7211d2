"""What a database can store of a check's output, and why a value cannot be stored.

PostgreSQL refuses NUL characters in text, NaN and infinities in JSON, and integers beyond
its column types; SQLite is laxer. A check's output is made storable the same way on both:
text keeps every character but NUL (shown as U+2400), JSON keeps non-finite numbers and
huge integers as strings, and a metric row that cannot be stored is refused with a reason
that names it ("metric value NaN for model m1 target t metric mse step 3"), which fails the
check instead of failing the database write (and the task's retries) with it.
"""

from __future__ import annotations

import math
from typing import Any

from .metrics import MetricRow

__all__ = ["clean_json", "clean_text", "metric_problem"]

NUL_SIGN = "\u2400"
STEP_MIN, STEP_MAX = -(2**31), 2**31 - 1  # an IntegerField on PostgreSQL
JSON_INT_MAX = 2**63 - 1
NAME_LIMITS = {"model": 200, "target": 200, "metric": 100}


def clean_text(text: str) -> str:
    return text.replace("\x00", NUL_SIGN) if "\x00" in text else text


def clean_json(value: Any) -> Any:
    """``value`` with NaN, infinities and out-of-range integers as strings, NULs replaced."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, int):
        return value if -JSON_INT_MAX - 1 <= value <= JSON_INT_MAX else str(value)
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(key)): clean_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(item) for item in value]
    return clean_text(str(value))


def metric_problem(row: MetricRow) -> str | None:
    """Why ``row`` cannot be stored (None: it can)."""
    where = f"for model {row.model} target {row.target} metric {row.metric} step {row.step}"
    for field, limit in NAME_LIMITS.items():
        text = getattr(row, field)
        if not isinstance(text, str) or "\x00" in text or len(text) > limit:
            shown = clean_text(str(text))[:60]
            return f"metric {field} {shown!r} is not text of at most {limit} characters"
    if not isinstance(row.value, (int, float)) or isinstance(row.value, bool):
        return f"metric value {row.value!r} {where} is not a number"
    if not math.isfinite(row.value):
        shown = "NaN" if math.isnan(row.value) else ("inf" if row.value > 0 else "-inf")
        return f"metric value {shown} {where}"
    if row.step is not None and (
        not isinstance(row.step, int) or not STEP_MIN <= row.step <= STEP_MAX
    ):
        step = f"{row.step:.3g}" if isinstance(row.step, (int, float)) else repr(row.step)
        return (
            f"metric step {step} for model {row.model} target {row.target} metric "
            f"{row.metric} is out of range"
        )
    return None
