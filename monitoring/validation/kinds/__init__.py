"""The kinds of check a manifest may declare, by name: one module per kind.

Each kind (a :class:`~.base.CheckKind`) declares its own manifest fields and parses them,
names the field holding its file pattern, says what its output files are and whether it
compares with production, and judges its result (see ``base.py``). Adding a kind is one
module here and one entry in :data:`KINDS`. No Django import: the worker reads what a kind
needs from the database and passes it in a :class:`~.base.JudgeContext`.
"""

from __future__ import annotations

from .base import CheckKind, JudgeContext, OutputKind
from .command import COMMAND
from .drift import DRIFT
from .external import EXTERNAL
from .inference import INFERENCE
from .performance import PERFORMANCE
from .schema import SCHEMA
from .skill import SKILL

__all__ = [
    "COMMAND",
    "DRIFT",
    "EXTERNAL",
    "INFERENCE",
    "KINDS",
    "KIND_NAMES",
    "PERFORMANCE",
    "SCHEMA",
    "SKILL",
    "CheckKind",
    "JudgeContext",
    "OutputKind",
    "get_kind",
]

KINDS: dict[str, CheckKind] = {
    kind.name: kind
    for kind in (
        COMMAND,
        INFERENCE,
        SCHEMA,
        PERFORMANCE,
        DRIFT,
        EXTERNAL,
        SKILL,
    )
}
# The names of the kinds above, sorted (as error messages list them).
KIND_NAMES = tuple(sorted(KINDS))


def get_kind(name: str) -> CheckKind:
    """The kind called ``name``; KeyError for a name no kind has."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown check kind {name!r}") from None
