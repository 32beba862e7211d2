"""The ``performance`` kind: the candidate's metrics against the production release's.

Fields: ``run``, ``from``, ``metrics`` (required), ``tolerance`` and ``abs_tolerance``
(default 0), ``directions`` (``{ my_metric = "higher", Coverage = 0.95, y_hat_bar = "none" }``:
"lower"/"higher" is better, a number is the value to match, "none" is not compared). The
comparison is
``monitoring/validation/metrics.py``; the production metrics come in the context.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..checks import check_files
from ..fields import CheckTable, show
from ..metrics import (
    MetricRow,
    MetricsError,
    check_performance,
    direction_from_manifest,
    load_metrics,
    metric_direction,
)
from ..outcome import CheckOutcome, file_record
from ..patterns import PathEscapeError
from .base import CheckKind, JudgeContext, judge_files

if TYPE_CHECKING:  # manifest imports this module; CheckSpec is only an annotation here
    from ..manifest import CheckSpec

__all__ = ["PERFORMANCE", "PerformanceKind"]


class PerformanceKind(CheckKind):
    name = "performance"
    fields = ("run", "from", "metrics", "tolerance", "abs_tolerance", "directions")
    pattern_field = "metrics"
    output_kind = "metrics"
    compares_with_production = True

    def parse(self, table: CheckTable, *, source: CheckSpec | None) -> dict[str, Any]:
        values: dict[str, Any] = {}
        values["metrics"] = table.pattern("metrics", required=True)
        for key in ("tolerance", "abs_tolerance"):
            value = table.get(key, (int, float), "a number", 0.0)
            if not (math.isfinite(value) and value >= 0):
                raise table.fail(f"{key} must be a finite number >= 0, got {value}", key)
            values[key] = float(value)
        directions = table.get("directions", dict, 'a table like { my_metric = "higher" }', {})
        for metric, direction in directions.items():
            try:
                direction_from_manifest(direction)
            except ValueError:
                raise table.fail(
                    f'direction of "{metric}" must be "lower", "higher", "none" or a number '
                    f"(the value to match), got {show(direction)}",
                    "directions",
                    metric,
                ) from None
        values["directions"] = tuple(sorted(directions.items()))
        return values

    def judge(self, spec: CheckSpec, context: JudgeContext) -> CheckOutcome:
        """Judged against ``context.baseline_metrics`` (None: no baseline, passes saying so).

        The metrics the candidate wrote are returned in ``metrics`` whatever the verdict
        (also when its command failed after writing them), for the model-health pages.
        """
        rows = _written_metrics(spec, context)
        outcome = judge_files(
            spec,
            context,
            lambda files, root: _compare(spec, files, context.baseline_metrics, root),
        )
        status, summary = outcome.status, outcome.summary
        if context.refusal is not None and outcome.passed:
            status, summary = "failed", context.refusal
        elif context.no_baseline_note:
            summary = f"{context.no_baseline_note}; {summary}"
        details = dict(outcome.details)
        if context.baseline_ref is not None:
            details["baseline"] = dict(context.baseline_ref)
        directions: dict[str, str] = {
            row.metric: metric_direction(row.metric, spec.direction_overrides) or "" for row in rows
        }
        return CheckOutcome(status, summary, details, outcome.artifacts, rows, directions)


def _written_metrics(spec: CheckSpec, context: JudgeContext) -> list[MetricRow]:
    rows: list[MetricRow] = []
    try:
        for path in check_files(spec, worktree=context.worktree, folders=context.folders):
            rows.extend(load_metrics(path))
    except (MetricsError, PathEscapeError):
        rows = []  # the verdict reports the same problem as the check's failure
    return rows


def _compare(
    spec: CheckSpec, files: list[Path], baseline: list[MetricRow] | None, root: Path | None
) -> CheckOutcome:
    if not files:
        return CheckOutcome("failed", "no metrics file was written")
    rows: list[MetricRow] = []
    artifacts = []
    try:
        for path in files:
            loaded = load_metrics(path)
            rows.extend(loaded)
            artifacts.append(file_record(path, rows=len(loaded), root=root))
    except MetricsError as exc:
        return CheckOutcome("failed", str(exc))
    outcome = check_performance(
        rows,
        baseline,
        tolerance=spec.tolerance,
        abs_tolerance=spec.abs_tolerance,
        directions=spec.direction_overrides,
    )
    return CheckOutcome(outcome.status, outcome.summary, outcome.details, artifacts)


PERFORMANCE = PerformanceKind()
