"""The ``external`` kind: a check run elsewhere (the team's compute, CI) that reports back.

Fields: ``predictions`` and ``metrics`` (optional file patterns in its ``{artifacts}``
folder, which holds the files the report uploaded) and ``deadline`` (how long ewsdash
waits for the report: ``"90m"``, ``"48h"``; default ``"24h"``, at most ``"168h"``).

ewsdash runs nothing for it: once the checks it would wait for have finished, the check
waits for ``POST .../checks/<name>/result`` (``api``), and a missing report turns into
``timed_out`` at its deadline (``monitoring.external``). The report's status is the
reporter's verdict; this kind adds that the files its patterns name were uploaded and
that the metrics file is readable. The same judging as for a sandboxed check applies to
the uploaded files through the checks that read them: a ``schema``, ``performance`` or
``drift`` check with ``from = "<this check>"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..checks import check_files
from ..fields import CheckTable
from ..metrics import MetricRow, MetricsError, load_metrics
from ..outcome import CheckOutcome, file_record
from ..patterns import PathEscapeError
from .base import CheckKind, JudgeContext

if TYPE_CHECKING:  # manifest imports this module; CheckSpec is only an annotation here
    from ..manifest import CheckSpec

__all__ = ["DEFAULT_DEADLINE_S", "EXTERNAL", "ExternalKind", "MAX_DEADLINE_S"]

DEFAULT_DEADLINE_S = 24 * 3600
MAX_DEADLINE_S = 7 * 24 * 3600
REPORTED_STATUSES = ("passed", "failed", "error")


class ExternalKind(CheckKind):
    name = "external"
    fields = ("predictions", "metrics", "deadline")
    pattern_field = "predictions"
    output_kind = "predictions"
    fills_own_folder = True

    def parse(self, table: CheckTable, *, source: CheckSpec | None) -> dict[str, Any]:
        from ..manifest import parse_duration  # manifest imports the kinds

        values: dict[str, Any] = {}
        for key in ("predictions", "metrics"):
            pattern = table.pattern(key, required=False)
            if pattern is not None and not pattern.startswith("{artifacts}/"):
                raise table.fail(
                    "an external check's files are the ones its report uploads: start the "
                    'pattern with {artifacts}/, like "{artifacts}/*.parquet"',
                    key,
                )
            values[key] = pattern
        deadline = DEFAULT_DEADLINE_S
        if "deadline" in table.raw:
            try:
                deadline = parse_duration(table.raw["deadline"])
            except ValueError as error:
                raise table.fail(str(error), "deadline") from None
            if not 60 <= deadline <= MAX_DEADLINE_S:
                raise table.fail(
                    f"deadline must be between 1m and {MAX_DEADLINE_S // 3600}h, got {deadline}s",
                    "deadline",
                )
        values["deadline_s"] = deadline
        return values

    def field_value(self, spec: CheckSpec, key: str) -> Any:
        if key == "deadline":
            return spec.deadline_s
        return super().field_value(spec, key)

    def judge(self, spec: CheckSpec, context: JudgeContext) -> CheckOutcome:
        """The reported verdict (``context.reported``), with the uploaded files checked."""
        reported = context.reported or {}
        status = str(reported.get("status", "error"))
        if status not in REPORTED_STATUSES:
            status = "error"
        said = str(reported.get("summary", "")).strip() or "no summary"
        folder = context.folders[spec.name]
        records: list[dict[str, Any]] = []
        rows: list[MetricRow] = []
        problems: list[str] = []
        for key in ("predictions", "metrics"):
            pattern = getattr(spec, key)
            if pattern is None:
                continue
            try:
                files = _matching(spec, key, context)
            except PathEscapeError as error:
                problems.append(str(error))
                continue
            if not files:
                problems.append(f"no uploaded file matches {key} = {pattern}")
            for path in files:
                records.append({**file_record(path, root=folder), "kind": key})
                if key == "metrics":
                    try:
                        rows.extend(load_metrics(path))
                    except MetricsError as error:
                        problems.append(f"{path.name}: {error}")
        details: dict[str, Any] = {"reported": {"status": status, "summary": said[:500]}}
        if problems:
            details["problems"] = problems
        if status == "passed" and problems:
            return CheckOutcome("failed", f"reported passed, but {problems[0]}", details, records)
        summary = f"reported {status}: {said}"
        return CheckOutcome(status, summary, details, records, rows)  # type: ignore[arg-type]


def _matching(spec: CheckSpec, key: str, context: JudgeContext) -> list[Path]:
    from dataclasses import replace

    # check_files reads the kind's pattern field; look at `key`'s pattern through it.
    probe = replace(spec, predictions=getattr(spec, key))
    return check_files(probe, worktree=context.folders[spec.name], folders=context.folders)


EXTERNAL = ExternalKind()
