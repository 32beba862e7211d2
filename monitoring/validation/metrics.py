"""The ``performance`` check: candidate metrics against the production release's.

Rules, per (model, target, metric, step):

- worse than production by more than ``max(tolerance * |production|, abs_tolerance)`` is a
  regression and fails the check; a production value of 0 therefore allows only
  ``abs_tolerance`` (default 0, i.e. any worsening), since a relative change from 0 is
  undefined;
- a metric production has and the candidate lacks fails the check (a candidate must not
  pass by dropping what it is measured on);
- a metric only the candidate has is reported as new and passes;
- a metric's sense comes from the catalogue (``CATALOGUE``: VIEWS's metrics and common
  ones) or the manifest's ``directions``: ``"lower"`` or ``"higher"`` is better, a number
  is the value the metric should match (Coverage at its nominal level 0.9, MCR at 1:
  worse is farther from it), ``"none"`` is reported and never compared (``y_hat_bar``,
  the mean forecast); a metric with no known sense cannot be compared and fails the check
  while a baseline exists;
- a candidate value that is NaN or infinite fails; a non-finite production value is
  reported and not compared;
- without a production baseline (the first release) the check passes and says so.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .outcome import CheckOutcome, examples
from .tables import TableError, read_table

__all__ = [
    "MetricRow",
    "MetricsError",
    "check_performance",
    "load_metrics",
    "metric_direction",
]

MetricKey = tuple[str, str, str, int | None]
# A metric's sense, as stored with its rows: "lower", "higher", "none" (not compared) or
# "target=<value>" (best at that value). "" is unknown.
Direction = str
INFORMATIONAL = "none"

# VIEWS's metric vocabulary (views-models' config_meta.py and views-evaluation's catalogue,
# 2026), by normalised name (lower case, runs of punctuation as "_"). Coverage's nominal
# level is views-evaluation's base profile (alpha 0.1); a manifest can change it.
CATALOGUE: dict[str, Direction] = {
    "rmsle": "lower",
    "mse": "lower",
    "msle": "lower",
    "crps": "lower",
    "twcrps": "lower",
    "qs_sample": "lower",
    "qs_point": "lower",
    "qis": "lower",
    "mis": "lower",
    "brier_rgs_sample": "lower",
    "brier_cls_sample": "lower",
    "brier_cls_point": "lower",
    "mtd": "lower",
    "emd": "lower",
    "ignorance": "lower",
    "jeffreys": "lower",
    "pearson": "higher",
    "ap": "higher",
    "mcr_point": "target=1",
    "mcr_sample": "target=1",
    "mcr": "target=1",
    "coverage": "target=0.9",
    "y_hat_bar": INFORMATIONAL,
}

_LOWER = {
    "mse",
    "msle",
    "rmse",
    "rmsle",
    "mae",
    "mape",
    "crps",
    "brier",
    "brier_score",
    "mis",
    "mean_interval_score",
    "interval_score",
    "log_loss",
    "logloss",
    "ignorance",
    "ign",
    "pinball",
    "quantile_loss",
    "mean_squared_error",
    "mean_absolute_error",
    "tadda",
    "energy_score",
    "kl",
    "emd",
}
_HIGHER = {
    "ap",
    "average_precision",
    "pr_auc",
    "auc",
    "roc_auc",
    "auroc",
    "aupr",
    "pearson",
    "pearson_r",
    "spearman",
    "r2",
    "r_squared",
    "f1",
    "accuracy",
    "precision",
    "recall",
    "correlation",
    "corr",
}
_REQUIRED = ("model", "target", "metric", "value")


class MetricsError(ValueError):
    """A metrics file that cannot be read as model/target/metric/step/value rows."""


@dataclass(frozen=True)
class MetricRow:
    model: str
    target: str
    metric: str
    step: int | None  # None: over all steps
    value: float

    @property
    def key(self) -> MetricKey:
        return (self.model, self.target, self.metric, self.step)

    def label(self) -> str:
        step = "all steps" if self.step is None else f"step {self.step}"
        return f"{self.model}/{self.target}/{self.metric} ({step})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "target": self.target,
            "metric": self.metric,
            "step": self.step,
            "value": self.value,
        }


def normal_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def metric_direction(name: str, overrides: Mapping[str, Any] | None = None) -> Direction | None:
    """The metric's sense (see `Direction`), or None when unknown.

    Matching ignores case and punctuation; ``overrides`` (the manifest's ``directions``)
    win over the catalogue, then the built-in names, then the name's first word, so
    ``CRPS``, ``MCR_sample``, ``crps_sb`` and ``brier-score`` are all known.
    """
    if overrides and name in overrides:
        return direction_from_manifest(overrides[name])
    normal = normal_name(name)
    if overrides:
        for key, value in overrides.items():
            if normal_name(key) == normal:
                return direction_from_manifest(value)
    if normal in CATALOGUE:
        return CATALOGUE[normal]
    for candidate in (normal, normal.split("_", 1)[0]):
        if candidate in CATALOGUE:
            return CATALOGUE[candidate]
        if candidate in _LOWER:
            return "lower"
        if candidate in _HIGHER:
            return "higher"
    return None


def direction_from_manifest(value: Any) -> Direction:
    """ "lower", "higher", "none", or a number (the value the metric should match)."""
    if isinstance(value, bool):
        raise ValueError(f'direction must be "lower", "higher", "none" or a number, got {value}')
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"a target value must be finite, got {value}")
        return f"target={value:g}"
    if value in ("lower", "higher", INFORMATIONAL):
        return str(value)
    raise ValueError(f'direction must be "lower", "higher", "none" or a number, got {value!r}')


def target_of(direction: str) -> float | None:
    """The value a "target=<value>" metric should match; None for the other senses."""
    if direction.startswith("target="):
        try:
            return float(direction.removeprefix("target="))
        except ValueError:
            return None
    return None


def worse_by(direction: str, value: float, base: float) -> float | None:
    """How much worse `value` is than `base` (negative: better), or None when the sense
    does not compare (unknown or informational). A target metric is worse the farther it
    is from its target: Coverage 0.85 after 0.88 against 0.9 is worse by 0.03."""
    if direction == "lower":
        return value - base
    if direction == "higher":
        return base - value
    target = target_of(direction)
    if target is not None:
        return abs(value - target) - abs(base - target)
    return None


def direction_text(direction: str) -> str:
    if direction == "lower":
        return "lower is better"
    if direction == "higher":
        return "higher is better"
    if direction == INFORMATIONAL:
        return "reported, not compared"
    target = target_of(direction)
    if target is not None:
        return f"best at {target:g}"
    return "direction unknown"


def load_metrics(path: Path) -> list[MetricRow]:
    """Read long-format metrics: JSON (a list of objects), CSV or parquet."""
    if path.suffix.lower() == ".json":
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MetricsError(f"{path.name}: not readable as JSON: {exc}") from None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise MetricsError(f"{path.name}: expected a JSON list of objects")
    else:
        try:
            records = read_table(path).to_pylist()
        except TableError as exc:
            raise MetricsError(str(exc)) from None
    return [_row(path, i, record) for i, record in enumerate(records)]


def _row(path: Path, index: int, record: Mapping[str, Any]) -> MetricRow:
    where = f"{path.name}, row {index + 1}"
    absent = [key for key in _REQUIRED if key not in record or record[key] is None]
    if absent:
        raise MetricsError(f"{where}: missing {', '.join(absent)}")
    value = record["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MetricsError(f"{where}: value {value!r} is not a number")
    step = record.get("step")
    if step is not None and not (isinstance(step, float) and math.isnan(step)):
        if isinstance(step, bool) or not isinstance(step, (int, float)) or step != int(step):
            raise MetricsError(f"{where}: step {step!r} is not a whole number")
        step = int(step)
    else:
        step = None
    return MetricRow(
        model=str(record["model"]),
        target=str(record["target"]),
        metric=str(record["metric"]),
        step=step,
        value=float(value),
    )


def check_performance(
    candidate: list[MetricRow],
    baseline: list[MetricRow] | None,
    *,
    tolerance: float = 0.0,
    abs_tolerance: float = 0.0,
    directions: Mapping[str, Any] | None = None,
) -> CheckOutcome:
    if not candidate:
        return CheckOutcome("failed", "the candidate wrote no metrics", {"compared": 0})
    duplicated = _duplicates(candidate)
    if duplicated:
        return CheckOutcome(
            "failed",
            f"{len(duplicated)} metric(s) appear more than once: {examples(duplicated)}",
            {"duplicates": duplicated},
        )
    not_finite = [row.label() for row in candidate if not math.isfinite(row.value)]
    if not baseline:
        details: dict[str, Any] = {"baseline": False, "candidate": [r.to_dict() for r in candidate]}
        if not_finite:
            return CheckOutcome(
                "failed",
                f"{len(not_finite)} metric(s) are NaN or infinite: {examples(not_finite)}",
                {**details, "not_finite": not_finite},
            )
        return CheckOutcome(
            "passed",
            f"no production baseline: {len(candidate)} metric(s) recorded, nothing compared",
            details,
        )

    ours = {row.key: row for row in candidate}
    theirs = {row.key: row for row in baseline}
    comparisons: list[dict[str, Any]] = []
    regressions: list[str] = []
    unknown: set[str] = set()
    for key, row in ours.items():
        base = theirs.get(key)
        if base is None:
            continue
        verdict = _compare(row, base, tolerance, abs_tolerance, directions)
        comparisons.append(verdict)
        if verdict["status"] == "regressed":
            regressions.append(verdict["text"])
        elif verdict["status"] == "unknown direction":
            unknown.add(row.metric)
    missing = [theirs[key].label() for key in theirs if key not in ours]
    new = [ours[key].label() for key in ours if key not in theirs]

    details = {
        "baseline": True,
        "tolerance": tolerance,
        "abs_tolerance": abs_tolerance,
        "comparisons": comparisons,
        "regressions": regressions,
        "missing": missing,
        "new": new,
        "unknown_direction": sorted(unknown),
    }
    failures: list[str] = []
    if regressions:
        failures.append(f"{len(regressions)} regression(s): {examples(regressions)}")
    if missing:
        failures.append(f"{len(missing)} metric(s) missing: {examples(missing)}")
    if unknown:
        names = ", ".join(sorted(unknown))
        failures.append(
            f"unknown direction for {names}; declare it, e.g. directions = "
            f'{{ {sorted(unknown)[0]} = "lower" }}'
        )
    compared = sum(1 for c in comparisons if c["status"] in ("ok", "improved", "regressed"))
    tail = f"; {len(new)} new metric(s)" if new else ""
    if failures:
        return CheckOutcome("failed", "; ".join(failures) + tail, details)
    improved = sum(1 for c in comparisons if c["status"] == "improved")
    return CheckOutcome(
        "passed",
        f"{compared} metric(s) within tolerance of production ({improved} improved){tail}",
        details,
    )


def _compare(
    row: MetricRow,
    base: MetricRow,
    tolerance: float,
    abs_tolerance: float,
    directions: Mapping[str, Any] | None,
) -> dict[str, Any]:
    verdict: dict[str, Any] = {
        **row.to_dict(),
        "baseline": base.value,
        "direction": metric_direction(row.metric, directions),
    }
    direction = verdict["direction"]
    if not math.isfinite(base.value):
        return {**verdict, "status": "baseline not finite", "text": row.label()}
    if not math.isfinite(row.value):
        text = f"{row.label()}: {row.value} (production {base.value:.6g})"
        return {**verdict, "status": "regressed", "text": text}
    if direction is None:
        return {**verdict, "status": "unknown direction", "text": row.label()}
    worse = worse_by(direction, row.value, base.value)
    if worse is None:
        return {**verdict, "status": "not compared", "text": row.label()}
    scale = abs(base.value)  # the tolerance is relative to production's value, any sense
    allowed = max(tolerance * scale, abs_tolerance)
    # A hair of slack so that a value re-computed with different rounding is not "worse".
    allowed += 1e-12 * max(1.0, abs(base.value))
    if worse > allowed:
        change = f"{worse / scale:+.2%}" if scale else f"+{worse:.6g}"
        text = (
            f"{row.label()}: {row.value:.6g} vs production {base.value:.6g} "
            f"({change} worse, {direction_text(direction)})"
        )
        return {**verdict, "status": "regressed", "text": text}
    status = "improved" if worse < 0 else "ok"
    return {**verdict, "status": status, "text": row.label()}


def _duplicates(rows: list[MetricRow]) -> list[str]:
    seen: set[MetricKey] = set()
    duplicated: list[str] = []
    for row in rows:
        if row.key in seen:
            duplicated.append(row.label())
        seen.add(row.key)
    return duplicated
