"""The ``drift`` kind: the candidate's predictions against the production release's.

Fields: ``run``, ``from``, ``predictions`` (required unless taken from ``from``),
``columns`` (default: every ``pred_*`` column) and ``options`` (handed as is to the drift
engine, ``monitoring/drift``). Each file is compared with production's file of the same
name; the check fails when a column drifted (the engine's verdict, DESIGN.md section 6).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitoring.drift import DEFAULT_CONFIG, DriftInputError, compare_files

from ..checks import check_files
from ..fields import CheckTable, show
from ..outcome import CheckOutcome, file_record
from ..patterns import PathEscapeError
from .base import CheckKind, JudgeContext, pattern_or_from

if TYPE_CHECKING:  # manifest imports this module; CheckSpec is only an annotation here
    from ..manifest import CheckSpec

__all__ = ["DRIFT", "DriftKind"]


class DriftKind(CheckKind):
    name = "drift"
    fields = ("run", "from", "predictions", "columns", "options")
    pattern_field = "predictions"
    output_kind = "predictions"
    compares_with_production = True

    def parse(self, table: CheckTable, *, source: CheckSpec | None) -> dict[str, Any]:
        values: dict[str, Any] = {}
        values["predictions"] = pattern_or_from(table, "predictions", source)
        columns = table.get("columns", list, "a list of column names", [])
        for column in columns:
            if not isinstance(column, str) or not column:
                raise table.fail(f"expected column names (strings), got {show(column)}", "columns")
        values["columns"] = tuple(columns)
        values["options"] = dict(table.get("options", dict, "a table", {}))
        return values

    def judge(self, spec: CheckSpec, context: JudgeContext) -> CheckOutcome:
        """Compared with ``context.baseline_files`` (None: no baseline, passes saying so)."""
        command = context.command
        if command is not None and not command.succeeded:
            how = f"exited with status {command.exit_code}"
            return CheckOutcome("failed", f"the command {how}")
        try:
            files = check_files(spec, worktree=context.worktree, folders=context.folders)
        except PathEscapeError as error:
            return CheckOutcome("failed", str(error), {"pattern": spec.pattern})
        root = context.folders[spec.artifacts_owner]
        records = [file_record(path, root=root) for path in files]
        current = _by_name(records, root)
        if not current:
            return CheckOutcome("failed", f"no prediction files matched {spec.pattern}")
        if context.refusal is not None:
            return CheckOutcome("failed", context.refusal, {}, records)
        if context.baseline_files is None:
            summary = f"{context.no_baseline_note}; {len(current)} prediction files"
            return CheckOutcome("passed", summary, {"compared": {}}, records)
        outcome = _compare(spec, current, context.baseline_files)
        if context.baseline_ref is not None:
            outcome.details["baseline"] = dict(context.baseline_ref)
        return CheckOutcome(outcome.status, outcome.summary, outcome.details, records)


def _by_name(records: list[dict[str, Any]], root: Path) -> dict[str, Path]:
    """{name in the folder: path} of the records of files inside ``root`` (those stored)."""
    files = {}
    for record in records:
        path = Path(record["path"])
        absolute = path if path.is_absolute() else root / path
        if absolute.is_file() and absolute.resolve().is_relative_to(root.resolve()):
            files[absolute.relative_to(root).as_posix()] = absolute
    return files


def _compare(
    spec: CheckSpec, current: Mapping[str, Path], reference: Mapping[str, Path]
) -> CheckOutcome:
    try:
        config = DEFAULT_CONFIG.with_(**dict(spec.options))
    except (TypeError, ValueError) as error:
        return CheckOutcome("failed", f"invalid drift options: {error}")
    compared: dict[str, Any] = {}
    drifted: list[str] = []
    untested: list[str] = []
    cell_notes: list[str] = []
    for name, path in sorted(current.items()):
        if name not in reference:
            compared[name] = {"status": "new", "reason": "production has no file of this name"}
            continue
        try:
            result = compare_files(
                reference[name],
                path,
                columns=list(spec.columns) or None,
                config=config,
            )
        except DriftInputError as error:
            return CheckOutcome("failed", f"{name}: {error}", {"compared": compared})
        columns = result["columns"]
        compared[name] = {"summary": result["summary"], "columns": columns}
        untested.extend(_untested(name, result))
        for column, data in columns.items():
            if data.get("drifted"):
                drifted.append(f"{column} ({name})")
            cells = data.get("cells") or {}
            if cells.get("drifted"):
                # Reported, not judged: the engine's verdict is per column (DESIGN.md 6).
                cell_notes.append(
                    f"{column} ({name}) {cells['drifted']:,}/{cells.get('tested', 0):,} cells"
                )
    missing = sorted(set(reference) - set(current))
    details: dict[str, Any] = {"compared": compared, "missing": missing}
    tested = sum(1 for item in compared.values() if "columns" in item)
    if untested:
        details["untested"] = untested
    if drifted:
        return CheckOutcome(
            "failed",
            f"drift in {len(drifted)} column(s): {', '.join(drifted[:5])}",
            details,
        )
    if not tested:
        return CheckOutcome(
            "inconclusive",
            "nothing compared: production has no prediction file of the same name as "
            f"{', '.join(sorted(current)[:5])}",
            details,
        )
    if untested:
        more = f" (and {len(untested) - 3} more)" if len(untested) > 3 else ""
        return CheckOutcome(
            "inconclusive",
            f"could not test {len(untested)} column(s): {'; '.join(untested[:3])}{more}",
            details,
        )
    extra = f"; {len(missing)} production file(s) missing" if missing else ""
    if cell_notes:
        extra += f"; drifted cells: {', '.join(cell_notes[:5])}"
    return CheckOutcome(
        "passed", f"no drift in {tested} file(s) against production{extra}", details
    )


def _untested(name: str, result: Mapping[str, Any]) -> list[str]:
    """In plain words, each column of file `name` the engine could not test."""
    found = []
    if not result["columns"]:
        skipped = result["summary"].get("skipped_columns") or {}
        production = ", ".join(skipped.get("only_reference", [])[:5]) or "none"
        candidate = ", ".join(skipped.get("only_current", [])[:5]) or "none"
        found.append(
            f"{name}: no column to compare (production has {production}; the candidate "
            f"has {candidate})"
        )
    for column, data in result["columns"].items():
        status = str(data.get("status", ""))
        if status == "empty_current":
            found.append(
                f"{column} ({name}): the candidate's file has no usable value (no rows, or "
                "every value NaN or infinite)"
            )
        elif status == "empty_reference":
            found.append(f"{column} ({name}): production's file has no usable value")
        elif status.startswith("type_mismatch"):
            kinds = status.partition(":")[2].strip() or "different types"
            found.append(f"{column} ({name}): the types differ ({kinds})")
    return found


DRIFT = DriftKind()
