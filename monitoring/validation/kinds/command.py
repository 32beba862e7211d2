"""The ``command`` kind: any shell line; passes when it exits with status 0.

Fields: ``run`` (required).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..outcome import CheckOutcome
from .base import CheckKind, JudgeContext, command_verdict

if TYPE_CHECKING:  # manifest imports this module; CheckSpec is only an annotation here
    from ..manifest import CheckSpec

__all__ = ["COMMAND", "CommandKind"]


class CommandKind(CheckKind):
    name = "command"
    fields = ("run",)
    requires_run = True

    def judge(self, spec: CheckSpec, context: JudgeContext) -> CheckOutcome:
        ran = command_verdict(spec, context)
        if ran is None:
            raise ValueError(f"check {spec.name!r} runs no command")
        return ran


COMMAND = CommandKind()
