"""The ``schema`` check: column names and types, missing and zero shares, ranges, extremes.

Shares are over values: a point column has one value per row, a draws column one per draw
(a null list counts as one missing value). ``max_*_month`` limits apply to every single
month of the time column. ``extreme_sd = k`` flags values more than k population standard
deviations from the column's mean (over its finite values); any such value fails the check.
Columns named ``*_id`` are identifiers, not measurements: only their own rule's
``extreme_sd`` applies to them. In a CSV file, which carries no types, any numeric type
name accepts any numeric column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .outcome import CheckOutcome, examples, file_record
from .tables import (
    LazyTable,
    NumericColumn,
    TableError,
    count_beyond,
    integer_column,
    is_list_type,
    is_numeric_type,
    moments,
    numeric_column,
    positions_where,
)

__all__ = ["RULE_FIELDS", "SCALAR_TYPES", "ColumnRule", "check_schema", "type_matches"]

# Type names a schema rule may use; ``_EXACT`` below maps them onto Arrow types.
SCALAR_TYPES = (
    "bool",
    "date32",
    "float",
    "float16",
    "float32",
    "float64",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "number",
    "string",
    "timestamp",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
)
# The rules a column may carry, as the manifest names them.
RULE_FIELDS = (
    "type",
    "required",
    "max_missing",
    "max_missing_month",
    "max_zero",
    "max_zero_month",
    "min",
    "max",
    "extreme_sd",
)


@dataclass(frozen=True)
class ColumnRule:
    """What a ``schema`` check demands of one column."""

    column: str
    type: str | None = None
    required: bool = True
    max_missing: float | None = None
    max_missing_month: float | None = None
    max_zero: float | None = None
    max_zero_month: float | None = None
    min: float | None = None
    max: float | None = None
    extreme_sd: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"required": self.required}
        for name in RULE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


_EXACT: dict[str, pa.DataType] = {
    "bool": pa.bool_(),
    "date32": pa.date32(),
    "float16": pa.float16(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "uint8": pa.uint8(),
    "uint16": pa.uint16(),
    "uint32": pa.uint32(),
    "uint64": pa.uint64(),
}
_NUMERIC_NAMES = frozenset(name for name, kind in _EXACT.items() if is_numeric_type(kind)) | {
    "float",
    "int",
    "number",
}


def _scalar_matches(name: str, kind: pa.DataType) -> bool:
    if name in _EXACT:
        return kind == _EXACT[name]
    if name == "float":
        return pa.types.is_floating(kind)
    if name == "int":
        return pa.types.is_integer(kind)
    if name == "number":
        return is_numeric_type(kind)
    if name == "string":
        return pa.types.is_string(kind) or pa.types.is_large_string(kind)
    if name == "timestamp":
        return pa.types.is_timestamp(kind)
    return False


def type_matches(declared: str, kind: pa.DataType, *, loose_numbers: bool = False) -> bool:
    """Whether an Arrow type is what a manifest type name (``"list<float32>"``) declares.

    ``loose_numbers`` accepts any number for any numeric name: a CSV file carries no types,
    and a float column whose values happen to be whole reads back as int64.
    """
    declared = declared.replace(" ", "")
    if loose_numbers and is_numeric_type(kind) and declared in _NUMERIC_NAMES:
        return True
    if declared.startswith("list<") and declared.endswith(">"):
        return is_list_type(kind) and _scalar_matches(declared[5:-1], kind.value_type)
    return not is_list_type(kind) and _scalar_matches(declared, kind)


def check_schema(
    files: list[Path],
    *,
    columns: tuple[ColumnRule, ...] | list[ColumnRule] = (),
    extreme_sd: float | None = None,
    time: str = "month_id",
    root: Path | None = None,
) -> CheckOutcome:
    if not files:
        return CheckOutcome("failed", "no files matched", {"files": []})
    problems: list[str] = []
    reports: list[dict[str, Any]] = []
    artifacts: list[dict[str, Any]] = []
    for path in files:
        report, file_problems = _check_file(path, list(columns), extreme_sd, time)
        reports.append(report)
        problems.extend(f"{path.name}: {problem}" for problem in file_problems)
        artifacts.append(file_record(path, rows=report.get("rows"), root=root))
    details = {"files": reports, "problems": problems}
    if problems:
        summary = f"{len(problems)} problem(s) in {len(files)} file(s): {problems[0]}"
        return CheckOutcome("failed", summary, details, artifacts)
    empty = [report["file"] for report in reports if not report["rows"]]
    if empty:
        summary = f"nothing to check: {examples(empty)} has no rows"
        return CheckOutcome("inconclusive", summary, details, artifacts)
    rows = sum(r["rows"] or 0 for r in reports)
    summary = f"{len(files)} file(s), {rows:,} rows, {len(columns)} column rule(s) hold"
    if extreme_sd is not None:
        summary += f", no value beyond {extreme_sd:g} SD"
    return CheckOutcome("passed", summary, details, artifacts)


def _check_file(
    path: Path, rules: list[ColumnRule], extreme_sd: float | None, time: str
) -> tuple[dict[str, Any], list[str]]:
    report: dict[str, Any] = {"file": path.name, "rows": None, "columns": {}}
    try:
        table = LazyTable(path)
    except TableError as exc:
        return report, [str(exc)]
    report["rows"] = table.num_rows
    problems: list[str] = []

    month_index: np.ndarray | None = None
    month_ids: np.ndarray | None = None
    if time in table.column_names:
        try:
            month_ids, month_index = np.unique(
                integer_column(table.column(time)), return_inverse=True
            )
        except TableError as exc:
            problems.append(f"{time}: {exc}")

    by_column = {rule.column: rule for rule in rules}
    for rule in rules:
        if rule.column not in table.column_names:
            if rule.required:
                problems.append(f"{rule.column}: column missing")
            continue
        kind = table.schema.field(rule.column).type
        loose = path.suffix.lower() in (".csv", ".tsv", ".txt")
        if rule.type is not None and not type_matches(rule.type, kind, loose_numbers=loose):
            problems.append(f"{rule.column}: type is {_type_name(kind)}, expected {rule.type}")

    # Extremes apply to every numeric column but ids; rules only to the columns they name.
    for name in table.column_names:
        column_rule = by_column.get(name)
        sd_limit = extreme_sd if not name.endswith("_id") else None
        if column_rule is not None and column_rule.extreme_sd is not None:
            sd_limit = column_rule.extreme_sd
        if name == time or (column_rule is None and sd_limit is None):
            continue
        column = table.column(name)
        kind = column.type
        numeric = is_numeric_type(kind) or (is_list_type(kind) and is_numeric_type(kind.value_type))
        if not numeric:
            if column_rule is not None:
                problems += _non_numeric(name, column, column_rule)
            continue
        data = numeric_column(column)
        stats, found = _numeric(name, data, column_rule, sd_limit, month_index, month_ids, time)
        report["columns"][name] = stats
        problems += found
    return report, problems


def _type_name(kind: pa.DataType) -> str:
    if is_list_type(kind):
        return f"list<{_type_name(kind.value_type)}>"
    names = {pa.float32(): "float32", pa.float64(): "float64", pa.float16(): "float16"}
    return names.get(kind, str(kind))


def _non_numeric(name: str, column: pa.ChunkedArray, rule: ColumnRule) -> list[str]:
    problems: list[str] = []
    if rule.max_zero is not None or rule.max_zero_month is not None:
        problems.append(f"{name}: max_zero needs a numeric column, it is {column.type}")
    if rule.min is not None or rule.max is not None:
        problems.append(f"{name}: min/max need a numeric column, it is {column.type}")
    if rule.max_missing is not None and len(column):
        share = column.null_count / len(column)
        if share > rule.max_missing:
            problems.append(f"{name}: {share:.1%} missing, at most {rule.max_missing:.1%} allowed")
    return problems


def _numeric(
    name: str,
    data: NumericColumn,
    rule: ColumnRule | None,
    sd_limit: float | None,
    month_index: np.ndarray | None,
    month_ids: np.ndarray | None,
    time: str,
) -> tuple[dict[str, Any], list[str]]:
    values = data.values
    m = moments(values)
    # A null list has no values of its own but is one missing value all the same.
    null_lists = int(np.count_nonzero(data.null_rows)) if data.is_list else 0
    total = values.size + null_lists
    missing = m.missing + null_lists
    stats: dict[str, Any] = {
        "values": int(total),
        "missing_share": missing / total if total else 0.0,
        "zero_share": m.zeros / total if total else 0.0,
    }
    if m.count:
        stats.update(min=m.min, max=m.max, mean=m.mean, sd=m.sd)
    problems: list[str] = []
    if rule is not None:
        problems += _shares(name, "missing", missing, total, rule.max_missing)
        problems += _shares(name, "zero", m.zeros, total, rule.max_zero)
        if month_index is not None and month_ids is not None:
            problems += _monthly(name, data, rule, month_index, month_ids, time)
        if rule.min is not None and m.count and m.min < rule.min:
            below = positions_where(values, lambda v: v < rule.min).size
            problems.append(f"{name}: {below:,} value(s) below {rule.min:g} (lowest {m.min:g})")
        if rule.max is not None and m.count and m.max > rule.max:
            above = positions_where(values, lambda v: v > rule.max).size
            problems.append(f"{name}: {above:,} value(s) above {rule.max:g} (highest {m.max:g})")
    if sd_limit is not None and m.count and m.sd > 0:
        beyond, farthest = count_beyond(values, m.mean, sd_limit * m.sd)
        stats["extreme"] = beyond
        if beyond:
            problems.append(
                f"{name}: {beyond:,} value(s) beyond {sd_limit:g} SD of the mean "
                f"{m.mean:.4g} (sd {m.sd:.4g}; the farthest is {farthest / m.sd:.1f} SD)"
            )
    return stats, problems


def _monthly(
    name: str,
    data: NumericColumn,
    rule: ColumnRule,
    month_index: np.ndarray,
    month_ids: np.ndarray,
    time: str,
) -> list[str]:
    limits = {"missing": rule.max_missing_month, "zero": rule.max_zero_month}
    if all(limit is None for limit in limits.values()):
        return []
    null_lists = data.null_rows & data.is_list
    value_count = np.bincount(
        month_index, weights=data.lengths + null_lists, minlength=month_ids.size
    )
    problems: list[str] = []
    for label, limit in limits.items():
        if limit is None:
            continue
        if label == "missing":
            per_row = data.per_row(lambda v: ~np.isfinite(v)) + null_lists
        else:
            per_row = data.per_row(lambda v: v == 0)
        counted = np.bincount(month_index, weights=per_row, minlength=month_ids.size)
        share = np.divide(counted, value_count, out=np.zeros_like(counted), where=value_count > 0)
        over = np.flatnonzero(share > limit)
        if over.size:
            shown = [f"{time} {month_ids[i]}: {share[i]:.1%}" for i in over[:5]]
            problems.append(
                f"{name}: {label} share above {limit:.1%} in {over.size} month(s): "
                + examples(shown, over.size)
            )
    return problems


def _shares(name: str, label: str, count: int, total: int, limit: float | None) -> list[str]:
    if limit is None or total == 0:
        return []
    share = count / total
    if share > limit:
        return [f"{name}: {share:.1%} {label} ({count:,} of {total:,}), at most {limit:.1%}"]
    return []
