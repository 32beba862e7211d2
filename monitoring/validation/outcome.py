"""What a built-in check returns, and the record of a file it looked at."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # metrics imports this module; MetricRow is only an annotation here
    from .metrics import MetricRow

__all__ = ["CheckOutcome", "Status", "file_record", "sha256_file"]

Status = Literal["passed", "failed", "error", "inconclusive"]

# How many examples an error message lists before "and N more".
EXAMPLES = 5


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict of one check.

    ``failed`` means the candidate's files or metrics break a rule (a missing or unreadable
    file the candidate was to write counts as that); ``inconclusive`` that the check could
    test nothing (no rows, every value dropped, no shared column, a type mismatch), which
    fails a required check too; ``error`` means the check itself could
    not be evaluated (ewsdash's side). ``details`` and ``artifacts`` are JSON-able.
    ``metrics`` are the model metrics the check read (a ``performance`` check's), with the
    direction of each metric by name; the worker stores them with the run.
    """

    status: Status
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[MetricRow] = field(default_factory=list)
    directions: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "status": self.status,
            "summary": self.summary,
            "details": self.details,
            "artifacts": self.artifacts,
        }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_record(path: Path, *, rows: int | None = None, root: Path | None = None) -> dict[str, Any]:
    """``{path, sha256, size, rows}`` for an artifact; ``path`` relative to ``root`` if given."""
    shown = path.relative_to(root) if root is not None and path.is_relative_to(root) else path
    return {
        "path": str(shown),
        "sha256": sha256_file(path),
        "size": path.stat().st_size,
        "rows": rows,
    }


def examples(items: list[str], total: int | None = None) -> str:
    """``"a; b; c"`` or ``"a; b; c (and 12 more)"``: an error message's list of examples."""
    total = len(items) if total is None else total
    shown = "; ".join(items[:EXAMPLES])
    rest = total - min(len(items), EXAMPLES)
    return f"{shown} (and {rest:,} more)" if rest > 0 else shown
