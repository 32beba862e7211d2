"""What a check kind is, and what it is given to parse its table and to judge its result.

A kind is a :class:`CheckKind` subclass in a module of this package, registered in
``__init__.py``. It declares:

``name``, ``fields``
    Its manifest fields besides the ones every check has (``name``, ``kind``, ``required``,
    ``timeout``), in the order ``Manifest.to_dict`` writes them. ``run`` and ``from``, when
    listed, are read by the manifest itself (they work the same for every kind); the kind
    says only whether ``run`` is required (``requires_run``).
``pattern_field``
    The field holding the file pattern the check validates (``files``, ``metrics``,
    ``predictions``), or None.
``output_kind``
    What the files it reads from its own ``{artifacts}`` folder are, when stored:
    ``"predictions"``, ``"metrics"`` or ``"file"``. (Files read from another check's folder
    are stored as that check's input.)
``compares_with_production``
    Whether it needs the production reference run: a run of a manifest with such a check
    starts one, and the check waits for the reference's check of the same name.
``parse(table, source=...)``
    Reads its own fields from a :class:`~monitoring.validation.fields.CheckTable` into
    ``CheckSpec`` values; ``source`` is the check named by ``from``, if any.
``judge(spec, context)``
    Its verdict, from a :class:`JudgeContext`.

Nothing here imports Django: the worker reads the production baseline from the database
and passes it in the context.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..checks import check_files, command_outcome
from ..fields import CheckTable
from ..metrics import MetricRow
from ..outcome import CheckOutcome
from ..patterns import PathEscapeError
from ..process import CommandResult

if TYPE_CHECKING:  # manifest imports this module; CheckSpec is only an annotation here
    from ..manifest import CheckSpec

__all__ = [
    "CheckKind",
    "JudgeContext",
    "OutputKind",
    "command_verdict",
    "judge_files",
    "pattern_or_from",
]

OutputKind = Literal["predictions", "metrics", "file"]


@dataclass(frozen=True)
class JudgeContext:
    """What a kind judges with.

    ``folders`` maps check names to artifacts folders (this check's and those it reads);
    ``command`` is the result of ``spec.run`` (None when the check runs none).

    The production side is read by the caller, and only for a kind that compares with
    production: ``baseline_metrics`` and ``baseline_files`` ({file name: path} of the
    files production's check stored) are None when there is no baseline;
    ``baseline_ref`` identifies the baseline, recorded in the check's details when it was
    compared with; ``no_baseline_note`` says why there is none (a first release, a check
    production does not declare, a run of production itself); ``refusal`` says why the
    check must fail whatever it finds (production's own check did not pass).
    """

    worktree: Path
    folders: Mapping[str, Path]
    command: CommandResult | None = None
    baseline_metrics: list[MetricRow] | None = None
    baseline_files: Mapping[str, Path] | None = None
    baseline_ref: Mapping[str, Any] | None = None
    no_baseline_note: str = ""
    refusal: str | None = None
    # An external check's report: {"status": ..., "summary": ...} (kinds/external.py).
    reported: Mapping[str, Any] | None = None


class CheckKind(abc.ABC):
    """One kind of check; see the module docstring for what each attribute means."""

    name: str
    fields: tuple[str, ...]
    requires_run: bool = False
    pattern_field: str | None = None
    output_kind: OutputKind = "file"
    compares_with_production: bool = False
    # Its own {artifacts} is filled without a command of its own (an external report).
    fills_own_folder: bool = False

    def parse(self, table: CheckTable, *, source: CheckSpec | None) -> dict[str, Any]:
        """``CheckSpec`` values of this kind's own fields (not ``run`` nor ``from``)."""
        return {}

    @abc.abstractmethod
    def judge(self, spec: CheckSpec, context: JudgeContext) -> CheckOutcome:
        """The check's verdict."""

    def field_value(self, spec: CheckSpec, key: str) -> Any:
        """The manifest value of field ``key`` (None: not written), for ``to_dict``."""
        if key == "from":
            return spec.from_check
        if key == "columns":
            return list(spec.columns) if spec.columns else None
        if key == "directions":
            return dict(spec.directions) if spec.directions else None
        if key == "options":
            return dict(spec.options) if spec.options else None
        return getattr(spec, key)


def pattern_or_from(table: CheckTable, key: str, source: CheckSpec | None) -> str:
    """The pattern in ``key``, by default the ``predictions`` of the check named by ``from``."""
    pattern = table.pattern(key, required=False)
    if pattern is None and source is not None and source.predictions:
        pattern = source.predictions
    if pattern is None:
        raise table.fail(
            "missing required field (a file pattern, or from naming an inference check)",
            key,
        )
    return pattern


def command_verdict(spec: CheckSpec, context: JudgeContext) -> CheckOutcome | None:
    """The verdict of ``spec.run``; None when the check runs no command."""
    if spec.run is None:
        return None
    if context.command is None:
        raise ValueError(f"check {spec.name!r} has a command; pass its result")
    return command_outcome(spec, context.command)


def judge_files(
    spec: CheckSpec,
    context: JudgeContext,
    evaluate: Callable[[list[Path], Path | None], CheckOutcome],
) -> CheckOutcome:
    """The steps of a check that validates files: ``evaluate(files, folder)`` after them.

    A command that did not exit with 0 fails the check before any file is read; a pattern
    that leaves its folder fails it; ``folder`` is the artifacts folder the pattern's
    ``{artifacts}`` means (file records are named relative to it). The command's details
    are kept under ``details["command"]``.
    """
    ran = command_verdict(spec, context)
    if ran is not None and not ran.passed:
        return ran
    try:
        files = check_files(spec, worktree=context.worktree, folders=context.folders)
    except PathEscapeError as exc:
        return CheckOutcome("failed", str(exc), {"pattern": spec.pattern})
    outcome = evaluate(files, context.folders.get(spec.artifacts_owner))
    if not files:
        outcome = replace(outcome, summary=f"{outcome.summary} (pattern {spec.pattern})")
    if ran is not None:
        outcome.details["command"] = ran.details
    return outcome
