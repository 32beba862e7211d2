"""From a declared check and what its command did to a :class:`CheckOutcome`.

The caller (the Celery task) owns the order and the folders: for each check it creates an
empty artifacts folder, runs ``spec.run`` (if any) with :func:`command_line` and
:func:`~monitoring.validation.process.run_command`, and then calls :func:`evaluate_check`.
``drift`` checks are judged by the drift engine; :func:`check_files` finds their files.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from .manifest import CheckSpec, PathEscapeError, expand_placeholders, find_files
from .metrics import MetricRow, MetricsError, check_performance, load_metrics
from .outcome import CheckOutcome, file_record
from .predictions import check_inference
from .process import CommandResult, safe_environment
from .schema import check_schema

__all__ = ["CheckOutcome", "check_environment", "check_files", "command_line", "evaluate_check"]


def command_line(spec: CheckSpec, *, worktree: Path, folders: Mapping[str, Path]) -> str:
    """``spec.run`` with its placeholders replaced by shell-quoted paths.

    ``folders`` maps check names to their artifacts folders (this check's and earlier ones).
    """
    if spec.run is None:
        raise ValueError(f"check {spec.name!r} runs no command")
    return expand_placeholders(
        spec.run,
        worktree=worktree,
        artifacts=folders[spec.artifacts_owner],
        named=folders,
        quote=True,
    )


def check_environment(
    spec: CheckSpec, *, worktree: Path, folders: Mapping[str, Path]
) -> dict[str, str]:
    """The environment for ``spec.run``: :func:`safe_environment` plus where things are."""
    return safe_environment(
        {
            "EWSDASH_ARTIFACTS": str(folders[spec.artifacts_owner].absolute()),
            "EWSDASH_WORKTREE": str(worktree.absolute()),
            "EWSDASH_CHECK": spec.name,
        }
    )


def check_files(spec: CheckSpec, *, worktree: Path, folders: Mapping[str, Path]) -> list[Path]:
    """The files the check validates (empty for a ``command`` check)."""
    if spec.pattern is None:
        return []
    return find_files(
        spec.pattern, worktree=worktree, artifacts=folders[spec.artifacts_owner], named=folders
    )


def command_outcome(spec: CheckSpec, result: CommandResult) -> CheckOutcome:
    details = {
        "exit_code": result.exit_code,
        "timed_out": result.timed_out,
        "cancelled": result.cancelled,
        "duration_s": round(result.duration_s, 3),
        "log_bytes": result.bytes_total,
    }
    if result.timed_out:
        return CheckOutcome("failed", f"timed out after {spec.timeout_s}s", details)
    if result.cancelled:
        return CheckOutcome("failed", "cancelled", details)
    if result.exit_code is None:
        return CheckOutcome("error", "the command could not be started", details)
    if result.exit_code != 0:
        how = (
            f"killed by signal {-result.exit_code}"
            if result.exit_code < 0
            else f"exited with status {result.exit_code}"
        )
        return CheckOutcome("failed", f"the command {how}", details)
    return CheckOutcome("passed", f"the command exited with 0 in {result.duration_s:.1f}s", details)


def evaluate_check(
    spec: CheckSpec,
    *,
    worktree: Path,
    folders: Mapping[str, Path],
    command: CommandResult | None = None,
    baseline_metrics: list[MetricRow] | None = None,
) -> CheckOutcome:
    """Judge a ``command``, ``inference``, ``schema`` or ``performance`` check.

    ``command`` is the result of ``spec.run`` (required when the check has one): a command
    that did not exit with 0 fails the check before any file is read. ``baseline_metrics``
    are the production release's metrics (None for a first release).
    """
    if spec.kind == "drift":
        raise ValueError("drift checks are judged by the drift engine")
    ran: CheckOutcome | None = None
    if spec.run is not None:
        if command is None:
            raise ValueError(f"check {spec.name!r} has a command; pass its result")
        ran = command_outcome(spec, command)
        if spec.kind == "command" or not ran.passed:
            return ran

    try:
        files = check_files(spec, worktree=worktree, folders=folders)
    except PathEscapeError as exc:
        return CheckOutcome("failed", str(exc), {"pattern": spec.pattern})
    root = folders.get(spec.artifacts_owner)

    if spec.kind == "inference":
        assert spec.unit is not None and spec.steps is not None
        outcome = check_inference(
            files,
            unit=spec.unit,
            time=spec.time,
            steps=spec.steps,
            first_month=spec.first_month,
            count_targets=spec.count_targets,
            root=root,
        )
    elif spec.kind == "schema":
        outcome = check_schema(
            files,
            columns=spec.column_rules,
            extreme_sd=spec.extreme_sd,
            time=spec.time,
            root=root,
        )
    elif spec.kind == "performance":
        outcome = _performance(spec, files, baseline_metrics, root)
    else:
        raise ValueError(f"unknown check kind {spec.kind!r}")

    if not files:
        outcome = CheckOutcome(
            outcome.status, f"{outcome.summary} (pattern {spec.pattern})", outcome.details
        )
    if ran is not None:
        outcome.details["command"] = ran.details
    return outcome


def _performance(
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
