"""The ``inference`` check: is every forecast file a complete, finite unit x month grid?

Each file is judged on its own and must hold the whole forecast: the same units in every
month, exactly ``steps`` consecutive months (from ``first_month`` when declared), each
unit-month once, and in every ``pred_*`` column finite values (draws included), no negative
value for a count target, and one number of draws for all rows.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .outcome import CheckOutcome, examples, file_record
from .tables import (
    LazyTable,
    TableError,
    integer_column,
    is_list_type,
    numeric_column,
    positions_where,
)

__all__ = ["check_inference", "is_count_target", "prediction_columns"]

# VIEWS names its fatality targets `ln_` (log), `lr_` (raw counts), `by_` (binary) or
# `*_ged_*` (pred_lr_sb_best, pred_ln_ged_sb_dep): none can be negative. A manifest's
# `count_targets = "<regex>"` replaces this pattern.
DEFAULT_COUNT_TARGETS = r"^pred_(ln|lr|by)_|_ged_"


def is_count_target(column: str, pattern: str = DEFAULT_COUNT_TARGETS) -> bool:
    """Whether a forecast column is a count (or binary) target, by its name."""
    return re.search(pattern, column) is not None


def prediction_columns(names: list[str]) -> list[str]:
    return [name for name in names if name.startswith("pred_")]


def check_inference(
    files: list[Path],
    *,
    unit: str,
    time: str = "month_id",
    steps: int,
    first_month: int | None = None,
    count_targets: bool | str | None = None,
    root: Path | None = None,
) -> CheckOutcome:
    """Validate forecast files. ``count_targets``: true or false for every column, a
    regular expression searched in each column's name, or None for the default pattern.

    ``root`` only shortens the paths recorded in the outcome's artifacts.
    """
    if not files:
        return CheckOutcome("failed", "no prediction files were written", {"files": []})
    problems: list[str] = []
    reports: list[dict[str, Any]] = []
    artifacts: list[dict[str, Any]] = []
    for path in files:
        report, file_problems = _check_file(
            path,
            unit=unit,
            time=time,
            steps=steps,
            first_month=first_month,
            count_targets=count_targets,
        )
        reports.append(report)
        problems.extend(f"{path.name}: {problem}" for problem in file_problems)
        artifacts.append(file_record(path, rows=report.get("rows"), root=root))
    details: dict[str, Any] = {"files": reports, "problems": problems}
    if problems:
        summary = f"{len(problems)} problem(s) in {len(files)} file(s): {problems[0]}"
        return CheckOutcome("failed", summary, details, artifacts)
    first = reports[0]
    summary = (
        f"{len(files)} file(s), {sum(r['rows'] for r in reports):,} rows: "
        f"{first['units']:,} {unit} x {first['months']} months "
        f"({first['first_month']}-{first['last_month']}), "
        f"{len(first['targets'])} target(s), draws {_draws_text(reports)}"
    )
    return CheckOutcome("passed", summary, details, artifacts)


def _draws_text(reports: list[dict[str, Any]]) -> str:
    counts = sorted({d for r in reports for d in r["draws"].values()})
    return ", ".join("point" if d == 1 else str(d) for d in counts) or "none"


def _check_file(
    path: Path,
    *,
    unit: str,
    time: str,
    steps: int,
    first_month: int | None,
    count_targets: bool | str | None,
) -> tuple[dict[str, Any], list[str]]:
    report: dict[str, Any] = {"file": path.name, "rows": None}
    try:
        table = LazyTable(path)
    except TableError as exc:
        return report, [str(exc)]
    report["rows"] = table.num_rows
    missing = [name for name in (unit, time) if name not in table.column_names]
    if missing:
        found = ", ".join(table.column_names[:12])
        return report, [f"no column {', '.join(missing)} (columns: {found})"]
    targets = prediction_columns(table.column_names)
    report["targets"] = targets
    if not targets:
        return report, ["no pred_* column"]
    if table.num_rows == 0:
        return report, ["no rows"]

    problems: list[str] = []
    try:
        units = integer_column(table.column(unit))
        months = integer_column(table.column(time))
    except TableError as exc:
        return report, [f"{unit}/{time}: {exc}"]
    problems += _check_grid(units, months, unit, time, steps, first_month, report)

    report["draws"] = {}
    for column in targets:
        if isinstance(count_targets, bool):
            counts = count_targets
        else:
            counts = is_count_target(column, count_targets or DEFAULT_COUNT_TARGETS)
        problems += _check_values(
            table.column(column), column, counts, units, months, unit, time, report
        )
    return report, problems


def _check_grid(
    units: np.ndarray,
    months: np.ndarray,
    unit: str,
    time: str,
    steps: int,
    first_month: int | None,
    report: dict[str, Any],
) -> list[str]:
    problems: list[str] = []
    unit_ids, unit_index = np.unique(units, return_inverse=True)
    month_ids = np.unique(months)
    start = int(first_month if first_month is not None else month_ids[0])
    expected = np.arange(start, start + steps, dtype=np.int64)
    report.update(
        units=len(unit_ids),
        months=len(month_ids),
        first_month=int(month_ids[0]),
        last_month=int(month_ids[-1]),
    )

    if first_month is not None and month_ids[0] != first_month:
        problems.append(f"first {time} is {month_ids[0]}, the manifest declares {first_month}")
    extra = np.setdiff1d(month_ids, expected)
    if extra.size:
        shown = [f"{time} {m} (step {m - start + 1})" for m in extra[:5]]
        problems.append(
            f"{extra.size} {time} value(s) outside the {steps} steps {start}-{start + steps - 1}: "
            + examples(shown, int(extra.size))
        )
    absent = np.setdiff1d(expected, month_ids)
    if absent.size:
        shown = [f"{time} {m} (step {m - start + 1})" for m in absent[:5]]
        problems.append(f"{absent.size} month(s) have no rows: {examples(shown, int(absent.size))}")

    # One cell per (month, unit) over the expected months: duplicates and holes in one pass.
    inside = (months >= start) & (months < start + steps)
    cells = (months[inside] - start) * len(unit_ids) + unit_index[inside]
    counts = np.bincount(cells, minlength=steps * len(unit_ids))
    duplicated = np.flatnonzero(counts > 1)
    if duplicated.size:
        shown = [
            f"{unit} {unit_ids[c % len(unit_ids)]} x {time} {start + c // len(unit_ids)} "
            f"({counts[c]} rows)"
            for c in duplicated[:5]
        ]
        problems.append(
            f"{duplicated.size:,} {unit} x {time} pair(s) appear more than once: "
            + examples(shown, int(duplicated.size))
        )
    present_months = np.isin(expected, month_ids)
    holes = np.flatnonzero((counts == 0) & np.repeat(present_months, len(unit_ids)))
    if holes.size:
        shown = [
            f"{unit} {unit_ids[c % len(unit_ids)]} is missing for {time} "
            f"{start + c // len(unit_ids)} (step {c // len(unit_ids) + 1})"
            for c in holes[:5]
        ]
        problems.append(
            f"{holes.size:,} {unit} x {time} pair(s) missing (every month must have the same "
            f"{len(unit_ids):,} units): " + examples(shown, int(holes.size))
        )
    return problems


def _check_values(
    column: pa.ChunkedArray,
    name: str,
    count_target: bool,
    units: np.ndarray,
    months: np.ndarray,
    unit: str,
    time: str,
    report: dict[str, Any],
) -> list[str]:
    try:
        data = numeric_column(column)
    except TableError as exc:
        return [f"{name}: {exc}"]

    def where(rows: np.ndarray) -> list[str]:
        return [f"{unit} {units[r]}, {time} {months[r]}" for r in rows[:5]]

    problems: list[str] = []
    if data.null_rows.any():
        rows = np.flatnonzero(data.null_rows)
        problems.append(f"{name}: {rows.size:,} null row(s): {examples(where(rows), rows.size)}")

    lengths = data.lengths[~data.null_rows]
    if data.is_list and lengths.size:
        draws, frequency = np.unique(lengths, return_counts=True)
        report["draws"][name] = int(draws[np.argmax(frequency)])
        if draws.size > 1:
            usual = int(draws[np.argmax(frequency)])
            odd = np.flatnonzero((data.lengths != usual) & ~data.null_rows)
            shown = [f"{w} has {data.lengths[r]}" for w, r in zip(where(odd), odd, strict=False)]
            problems.append(
                f"{name}: draws per row differ ({', '.join(map(str, draws[:8]))}); "
                f"{odd.size:,} row(s) differ from {usual}: {examples(shown, odd.size)}"
            )
        if draws.min() == 0:
            problems.append(f"{name}: rows with no draws")
    elif not data.is_list:
        report["draws"][name] = 1

    bad = positions_where(data.values, lambda v: ~np.isfinite(v))
    if bad.size:
        rows = np.unique(data.rows_of(bad))
        problems.append(
            f"{name}: {bad.size:,} NaN or infinite value(s) in {rows.size:,} row(s): "
            + examples(where(rows), rows.size)
        )
    if count_target:
        negative = positions_where(data.values, lambda v: v < 0)
        if negative.size:
            rows = np.unique(data.rows_of(negative))
            low = float(np.min(data.values[negative]))
            problems.append(
                f"{name}: {negative.size:,} negative value(s) in a count target (lowest "
                f"{low:g}) in {rows.size:,} row(s): " + examples(where(rows), rows.size)
            )
    if is_list_type(column.type) and not data.values.size and not problems:
        problems.append(f"{name}: no draws at all")
    return problems
