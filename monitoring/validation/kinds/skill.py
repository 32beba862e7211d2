"""The ``skill`` kind: is the candidate's skill better, the same or worse than production's
and than naive forecasts, beyond noise? (issue 18)

Fields: ``run``, ``from``, ``predictions`` (required unless taken from ``from``: forecast
files of past months, ``predictions_<model>.parquet`` with ``pred_<target>`` columns of
draws; a ``step`` column when the file holds several forecast origins), ``outcomes``
(required: a file with ``<unit>, <time>`` and either ``target, value`` or one column per
target), ``unit``, ``time`` (default ``month_id``), ``scores`` (default ``["CRPS", "MSLE"]``;
also ``twCRPS``, ``MSE``, ``Brier``), ``alpha`` (default 0.05), ``threshold`` (twCRPS,
default 25) and ``floors`` (``[{ metric = "MSLE", beat = "zeros" }]``; ``beat`` is
``zeros``, ``last`` or ``production``).

The candidate is compared, on the same units, months and steps, with production's
forecast file of the same name and with two naive forecasts: all zeros, and the last
observed value before the forecast origin (when the outcomes file holds it). Each step gets
a paired test (monitoring/skill/compare.py: Diebold-Mariano with the Harvey-Leybourne-
Newbold correction on the months' mean differences), Benjamini-Hochberg across steps, and
a verdict with its interval. The check fails when the candidate is significantly worse than
production at any step, or breaks a declared floor (its mean score over every cell is not
below the named forecast's).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..checks import check_files
from ..fields import CheckTable, show
from ..outcome import CheckOutcome, file_record
from ..patterns import PathEscapeError
from .base import CheckKind, JudgeContext, pattern_or_from

if TYPE_CHECKING:  # manifest imports this module; CheckSpec is only an annotation here
    from ..manifest import CheckSpec

__all__ = ["SKILL", "SkillKind"]

SCORES = {
    "CRPS": "crps",
    "twCRPS": "twcrps",
    "MSE": "squared_error",
    "MSLE": "squared_log_error",
    "Brier": "brier",
}
AGAINST = ("production", "zeros", "last")


class SkillKind(CheckKind):
    name = "skill"
    fields = (
        "run", "from", "predictions", "outcomes", "unit", "time", "scores", "alpha",
        "threshold", "floors",
    )  # fmt: skip
    pattern_field = "predictions"
    output_kind = "predictions"
    compares_with_production = True

    def parse(self, table: CheckTable, *, source: CheckSpec | None) -> dict[str, Any]:
        values: dict[str, Any] = {"predictions": pattern_or_from(table, "predictions", source)}
        values["files"] = table.pattern("outcomes", required=True)
        unit = table.get("unit", str, "a column name", source.unit if source else None)
        values["unit"] = table.identifier(unit, "unit", required=False)
        values["time"] = table.identifier(
            table.get("time", str, "a column name", source.time if source else "month_id"),
            "time",
            required=True,
        )
        scores = table.get("scores", list, "a list of score names", ["CRPS", "MSLE"])
        for score in scores:
            if score not in SCORES:
                raise table.fail(
                    f"unknown score {show(score)}; one of {', '.join(SCORES)}", "scores"
                )
        alpha = table.get("alpha", (int, float), "a number", 0.05)
        if not (0 < alpha < 1):
            raise table.fail(f"must be between 0 and 1, got {alpha}", "alpha")
        threshold = table.get("threshold", (int, float), "a number", 25.0)
        if not math.isfinite(threshold):
            raise table.fail("must be a finite number", "threshold")
        floors = table.get("floors", list, 'a list like [{ metric = "MSLE", beat = "zeros" }]', [])
        for floor in floors:
            if not isinstance(floor, dict) or set(floor) != {"metric", "beat"}:
                raise table.fail(
                    f"expected {{ metric = ..., beat = ... }}, got {show(floor)}", "floors"
                )
            if floor["metric"] not in SCORES:
                raise table.fail(f"unknown score {show(floor['metric'])}", "floors")
            if floor["beat"] not in AGAINST:
                raise table.fail(
                    f"beat must be one of {', '.join(AGAINST)}, got {show(floor['beat'])}", "floors"
                )
        values["options"] = {
            "scores": list(scores),
            "alpha": float(alpha),
            "threshold": float(threshold),
            "floors": [dict(floor) for floor in floors],
        }
        return values

    def field_value(self, spec: CheckSpec, key: str) -> Any:
        if key == "outcomes":
            return spec.files
        if key in ("scores", "alpha", "threshold", "floors"):
            return spec.options.get(key)
        return super().field_value(spec, key)

    def judge(self, spec: CheckSpec, context: JudgeContext) -> CheckOutcome:
        command = context.command
        if command is not None and not command.succeeded:
            return CheckOutcome("failed", f"the command exited with status {command.exit_code}")
        try:
            files = check_files(spec, worktree=context.worktree, folders=context.folders)
            outcome_files = check_files(
                _as_pattern(spec, spec.files), worktree=context.worktree, folders=context.folders
            )
        except PathEscapeError as error:
            return CheckOutcome("failed", str(error), {"pattern": spec.pattern})
        root = context.folders[spec.artifacts_owner]
        records = [file_record(path, root=root) for path in files]
        if not files:
            return CheckOutcome("failed", f"no prediction files matched {spec.pattern}")
        if not outcome_files:
            return CheckOutcome("failed", f"no outcomes file matched {spec.files}", {}, records)
        if context.refusal is not None:
            return CheckOutcome("failed", context.refusal, {}, records)
        from monitoring.skill.checking import SkillInputError, skill_compare

        production = {
            Path(name).name: path for name, path in (context.baseline_files or {}).items()
        }
        try:
            report = skill_compare(
                files,
                outcome_files,
                production=production if context.baseline_files is not None else None,
                unit=spec.unit,
                time=spec.time,
                scores=[SCORES[s] for s in spec.options["scores"]],
                names={v: k for k, v in SCORES.items()},
                alpha=spec.options["alpha"],
                threshold=spec.options["threshold"],
                floors=spec.options["floors"],
            )
        except SkillInputError as error:
            return CheckOutcome("failed", str(error), {}, records)
        if context.baseline_ref is not None:
            report.details["baseline"] = dict(context.baseline_ref)
        summary = report.summary
        if context.baseline_files is None and context.no_baseline_note:
            summary = f"{context.no_baseline_note}; {summary}"
        return CheckOutcome(report.status, summary, report.details, records)


def _as_pattern(spec: CheckSpec, pattern: str | None) -> CheckSpec:
    import dataclasses

    return dataclasses.replace(spec, predictions=pattern)


SKILL = SkillKind()
