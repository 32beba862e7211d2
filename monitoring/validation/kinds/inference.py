"""The ``inference`` kind: runs the command, then validates the forecasts it wrote.

Fields: ``run`` (required), ``predictions`` (required), ``unit`` (required), ``time``
(default ``month_id``), ``steps`` (required), ``first_month``, ``count_targets``. The
rules are in ``monitoring/validation/predictions.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..fields import CheckTable
from ..outcome import CheckOutcome
from ..predictions import check_inference
from .base import CheckKind, JudgeContext, judge_files

if TYPE_CHECKING:  # manifest imports this module; CheckSpec is only an annotation here
    from ..manifest import CheckSpec

__all__ = ["INFERENCE", "InferenceKind"]


class InferenceKind(CheckKind):
    name = "inference"
    fields = ("run", "predictions", "unit", "time", "steps", "first_month", "count_targets")
    requires_run = True
    pattern_field = "predictions"
    output_kind = "predictions"

    def parse(self, table: CheckTable, *, source: CheckSpec | None) -> dict[str, Any]:
        values: dict[str, Any] = {}
        values["predictions"] = table.pattern("predictions", required=True)
        values["unit"] = table.identifier(table.get("unit", str, "a column name"), "unit", True)
        values["time"] = table.identifier(
            table.get("time", str, "a column name", "month_id"), "time", True
        )
        steps = table.get("steps", int, "an integer", None)
        if steps is None:
            raise table.fail("missing required field (how many months ahead, e.g. 36)", "steps")
        if not 1 <= steps <= 1200:
            raise table.fail(f"steps must be between 1 and 1200, got {steps}", "steps")
        values["steps"] = steps
        values["first_month"] = table.get("first_month", int, "an integer month id")
        count_targets = table.get(
            "count_targets", (bool, str), "true, false or a regular expression on column names"
        )
        if isinstance(count_targets, str):
            try:
                re.compile(count_targets)
            except re.error as error:
                raise table.fail(
                    f"count_targets is not a regular expression: {error}", "count_targets"
                ) from None
        values["count_targets"] = count_targets
        return values

    def judge(self, spec: CheckSpec, context: JudgeContext) -> CheckOutcome:
        def evaluate(files: list[Path], root: Path | None) -> CheckOutcome:
            assert spec.unit is not None and spec.steps is not None
            return check_inference(
                files,
                unit=spec.unit,
                time=spec.time,
                steps=spec.steps,
                first_month=spec.first_month,
                count_targets=spec.count_targets,
                root=root,
            )

        return judge_files(spec, context, evaluate)


INFERENCE = InferenceKind()
