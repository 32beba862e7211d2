"""What every kind of check shares: its command line and environment, the files it reads,
and the verdict of its command.

The caller (the Celery task) owns the order and the folders: for each check it creates an
empty artifacts folder, runs ``spec.run`` (if any) with :func:`command_line`,
:func:`check_environment` and :func:`~monitoring.validation.process.run_command`, and then
asks the check's kind to judge (``get_kind(spec.kind).judge``, see ``kinds/``). The kinds
use :func:`check_files` and :func:`command_outcome`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from .outcome import CheckOutcome
from .patterns import expand_placeholders, find_files
from .process import CommandResult, safe_environment

if TYPE_CHECKING:  # manifest imports this module (via kinds); CheckSpec is only an annotation
    from .manifest import CheckSpec

__all__ = ["check_environment", "check_files", "command_line", "command_outcome"]


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
    """Passed when the command exited with 0; otherwise failed (or error: not started)."""
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
