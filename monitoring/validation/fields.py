"""Reading one ``[[check]]`` table: typed fields, and errors that say where.

The manifest reads the fields every check has through a :class:`CheckTable` and then hands
the same table to the check's kind (``kinds/``), which reads its own fields. Problems are
raised as the manifest's ``ManifestError`` (made by the ``fail`` callback it passes in), so
every message names the file, the line, the check and the field.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .patterns import PathEscapeError, split_pattern

__all__ = ["CheckTable", "show", "suggest"]


class CheckTable:
    """One check's raw table, with the checks declared before it.

    ``fail(problem, *keys)`` returns (does not raise) the error for a problem in the field
    at ``keys`` (``"columns", "pred_x", "type"`` for a nested one); ``known`` names the
    earlier checks, which ``{artifacts:NAME}`` in a pattern may name.
    """

    def __init__(
        self,
        raw: Mapping[str, Any],
        fail: Callable[..., Exception],
        known: Sequence[str],
    ) -> None:
        self.raw = raw
        self.known = tuple(known)
        self._fail = fail

    def fail(self, problem: str, *keys: str) -> Exception:
        return self._fail(problem, *keys)

    def get(self, key: str, kind: type | tuple[type, ...], what: str, default: Any = None) -> Any:
        """The value of ``key`` if it has type ``kind`` (``what`` says it in words)."""
        if key not in self.raw:
            return default
        value = self.raw[key]
        # bool is an int in Python; a number field must not accept true/false.
        if isinstance(value, bool) and bool not in _as_tuple(kind):
            raise self.fail(f"expected {what}, got {show(value)}", key)
        if not isinstance(value, kind):
            raise self.fail(f"expected {what}, got {show(value)}", key)
        return value

    def pattern(self, key: str, *, required: bool) -> str | None:
        """A file pattern that stays in its folder and names only earlier checks."""
        if key not in self.raw:
            if required:
                raise self.fail("missing required field (a file path or glob)", key)
            return None
        value = self.raw[key]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"expected a file path or glob (string), got {show(value)}", key)
        try:
            split_pattern(value, self.known)
        except PathEscapeError as exc:
            raise self.fail(str(exc), key) from None
        return value

    def identifier(self, value: Any, key: str, required: bool) -> str | None:
        """A column name read with :meth:`get`; not empty."""
        if value is None:
            if required:
                raise self.fail("missing required field (a column name)", key)
            return None
        if not value.strip():
            raise self.fail("must not be empty", key)
        return str(value)

    def positive(self, value: Any, key: str, *keys: str) -> float | None:
        """A finite number > 0, or None; ``keys`` locate a nested field (default ``key``)."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"expected a number, got {show(value)}", *(keys or (key,)))
        if not (math.isfinite(value) and value > 0):
            raise self.fail(f"must be a finite number > 0, got {value}", *(keys or (key,)))
        return float(value)


def suggest(key: str, allowed: Sequence[str]) -> str:
    """`` (did you mean "x"?)`` for a misspelt key, or nothing."""
    close = difflib.get_close_matches(key, allowed, n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def show(value: Any) -> str:
    """A value as the manifest writes it, for an error message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)
