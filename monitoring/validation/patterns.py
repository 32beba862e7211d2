"""File patterns and placeholders: where the files a check names are, and nothing outside.

A pattern is a glob (``*``, ``?``, ``[ab]``, ``**``) relative to the candidate's worktree, or
starting with ``{artifacts}``, ``{artifacts:NAME}`` or ``{worktree}``; absolute paths, ``~``
and ``..`` are refused. The manifest checks patterns when it is parsed
(:func:`split_pattern`), the worker expands them when a check runs (:func:`find_files`,
:func:`expand_placeholders`). No Django, and nothing here knows about check kinds.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["PLACEHOLDER", "PathEscapeError", "expand_placeholders", "find_files", "split_pattern"]

PLACEHOLDER = re.compile(r"\{(artifacts|worktree)(?::([^{}\s]*))?\}")


class PathEscapeError(ValueError):
    """A file pattern or a matched file that leaves the folder it must stay in."""


def split_pattern(pattern: str, known: Sequence[str] | None = None) -> tuple[str, str | None, str]:
    """Split a pattern into (root kind, check name, relative glob) and refuse escapes.

    The root is ``"worktree"`` or ``"artifacts"``; the check name is set for
    ``{artifacts:NAME}``. ``known`` (when given) lists the checks that may be named.
    """
    root, ref, rest = "worktree", None, pattern
    found = PLACEHOLDER.match(pattern)
    if found:
        root, ref = found.group(1), found.group(2)
        if root == "worktree" and ref is not None:
            raise PathEscapeError(f"unknown placeholder {found.group(0)}")
        if ref is not None and known is not None and ref not in known:
            raise PathEscapeError(f'{found.group(0)} must name an earlier check; "{ref}" is not')
        rest = pattern[found.end() :]
        if not rest.startswith("/"):
            raise PathEscapeError(f"expected a / after {found.group(0)} in {pattern!r}")
        rest = rest.lstrip("/")
    elif rest.startswith(("/", "\\", "~")) or re.match(r"[A-Za-z]:", rest):
        raise PathEscapeError(
            f"{pattern!r} is absolute; use a path relative to the worktree or {{artifacts}}"
        )
    if "{" in rest or "}" in rest:
        if PLACEHOLDER.search(rest):
            raise PathEscapeError(f"placeholders may only start a pattern: {pattern!r}")
    parts = re.split(r"[/\\]", rest)
    if ".." in parts:
        raise PathEscapeError(f"{pattern!r} leaves its folder (.. is not allowed)")
    if not rest or all(part in ("", ".") for part in parts):
        raise PathEscapeError(f"{pattern!r} names a folder, not files")
    return root, ref, rest


def expand_placeholders(
    text: str,
    *,
    worktree: Path,
    artifacts: Path,
    named: Mapping[str, Path] | None = None,
    quote: bool = False,
) -> str:
    """Replace ``{worktree}``, ``{artifacts}`` and ``{artifacts:NAME}`` in ``text``.

    ``artifacts`` is the folder ``{artifacts}`` means for this check (its own, or its
    ``from`` check's); ``named`` maps earlier checks to their folders. With ``quote=True``
    each path is shell-quoted so that a folder with spaces stays one word. Other braces are
    left alone (``${HOME}``, ``awk '{print $1}'``).
    """

    def substitute(match: re.Match[str]) -> str:
        if match.group(1) == "worktree":
            if match.group(2) is not None:
                return match.group(0)
            folder = worktree
        elif match.group(2):
            if named is None or match.group(2) not in named:
                raise KeyError(f"no artifacts folder for check {match.group(2)!r}")
            folder = named[match.group(2)]
        else:
            folder = artifacts
        value = str(Path(folder).absolute())
        return shlex.quote(value) if quote else value

    return PLACEHOLDER.sub(substitute, text)


def find_files(
    pattern: str,
    *,
    worktree: Path,
    artifacts: Path,
    named: Mapping[str, Path] | None = None,
) -> list[Path]:
    """The files matching a manifest pattern, sorted; refuses anything outside its folder.

    A matched file that is a symbolic link resolving outside the folder raises
    :class:`PathEscapeError` instead of being read.
    """
    root_kind, ref, rest = split_pattern(pattern)
    if root_kind == "worktree":
        root = worktree
    elif ref:
        if named is None or ref not in named:
            raise KeyError(f"no artifacts folder for check {ref!r}")
        root = named[ref]
    else:
        root = artifacts
    real_root = Path(root).resolve()
    matches: list[Path] = []
    for path in sorted(Path(root).glob(rest)):
        if not path.is_file():
            continue
        real = path.resolve()
        if not real.is_relative_to(real_root):
            raise PathEscapeError(f"{path} resolves to {real}, outside {real_root}")
        matches.append(path)
    return matches
