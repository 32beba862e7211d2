"""The ``schema`` kind: column names and types, missing and zero shares, ranges, extremes.

Fields: ``run``, ``from``, ``files`` (required unless taken from ``from``), ``time``
(default ``month_id``), ``columns`` (a table of per-column rules) and ``extreme_sd``. The
rules are in ``monitoring/validation/schema.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..fields import CheckTable, show, suggest
from ..outcome import CheckOutcome
from ..schema import RULE_FIELDS, SCALAR_TYPES, ColumnRule, check_schema
from .base import CheckKind, JudgeContext, judge_files, pattern_or_from

if TYPE_CHECKING:  # manifest imports this module; CheckSpec is only an annotation here
    from ..manifest import CheckSpec

__all__ = ["SCHEMA", "SchemaKind"]

_TYPE = re.compile(r"(?:list<\s*(\w+)\s*>|(\w+))")
_SHARE_FIELDS = ("max_missing", "max_missing_month", "max_zero", "max_zero_month")


class SchemaKind(CheckKind):
    name = "schema"
    fields = ("run", "from", "files", "time", "columns", "extreme_sd")
    pattern_field = "files"

    def parse(self, table: CheckTable, *, source: CheckSpec | None) -> dict[str, Any]:
        values: dict[str, Any] = {}
        values["files"] = pattern_or_from(table, "files", source)
        values["time"] = table.identifier(
            table.get("time", str, "a column name", "month_id"), "time", True
        )
        values["extreme_sd"] = table.positive(
            table.get("extreme_sd", (int, float), "a number"), "extreme_sd"
        )
        rules = table.get("columns", dict, "a table of column rules", {})
        values["column_rules"] = tuple(
            _column_rule(column, rule, table) for column, rule in rules.items()
        )
        return values

    def field_value(self, spec: CheckSpec, key: str) -> Any:
        if key == "columns":
            return {rule.column: rule.to_dict() for rule in spec.column_rules}
        return super().field_value(spec, key)

    def judge(self, spec: CheckSpec, context: JudgeContext) -> CheckOutcome:
        def evaluate(files: list[Path], root: Path | None) -> CheckOutcome:
            return check_schema(
                files,
                columns=spec.column_rules,
                extreme_sd=spec.extreme_sd,
                time=spec.time,
                root=root,
            )

        return judge_files(spec, context, evaluate)


def _column_rule(column: str, rule: Any, table: CheckTable) -> ColumnRule:
    if not isinstance(rule, dict):
        raise table.fail(
            f'expected a table of rules like {{ type = "float32" }}, got {show(rule)}',
            "columns",
            column,
        )
    for key in rule:
        if key not in RULE_FIELDS:
            hint = suggest(key, list(RULE_FIELDS))
            raise table.fail(
                f"unknown column rule{hint} (allowed: {', '.join(RULE_FIELDS)})",
                "columns",
                column,
                key,
            )
    values: dict[str, Any] = {"column": column}
    if "type" in rule:
        type_name = rule["type"]
        if not isinstance(type_name, str) or not _valid_type(type_name):
            raise table.fail(
                f"unknown type {show(type_name)} (expected one of {', '.join(SCALAR_TYPES)}, "
                'or "list<...>" of one of them)',
                "columns",
                column,
                "type",
            )
        values["type"] = type_name.replace(" ", "")
    if "required" in rule:
        if not isinstance(rule["required"], bool):
            raise table.fail(
                f"expected true or false, got {show(rule['required'])}",
                "columns",
                column,
                "required",
            )
        values["required"] = rule["required"]
    for key in _SHARE_FIELDS:
        if key in rule:
            value = rule[key]
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not (0 <= value <= 1)
            ):
                raise table.fail(
                    f"expected a share between 0 and 1, got {show(value)}", "columns", column, key
                )
            values[key] = float(value)
    for key in ("min", "max"):
        if key in rule:
            value = rule[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise table.fail(f"expected a number, got {show(value)}", "columns", column, key)
            values[key] = float(value)
    if "extreme_sd" in rule:
        values["extreme_sd"] = table.positive(
            rule["extreme_sd"], "extreme_sd", "columns", column, "extreme_sd"
        )
    return ColumnRule(**values)


def _valid_type(name: str) -> bool:
    found = _TYPE.fullmatch(name.strip().replace(" ", ""))
    if not found:
        return False
    return (found.group(1) or found.group(2)) in SCALAR_TYPES


SCHEMA = SchemaKind()
