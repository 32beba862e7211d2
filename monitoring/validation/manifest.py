"""The validation manifest: which staging checks a governed repository declares.

The manifest is a TOML file at the root of the governed repository (``ewsdash.toml`` unless
the repository is registered with another path). It is a list of ``[[check]]`` tables, run
in the order written. A release candidate is *validated* when every check with
``required = true`` passes; checks with ``required = false`` are advisory (shown, not
blocking).

Fields every check has
    ``name``      unique slug: lower-case letters, digits, ``-`` and ``_``, at most 63 chars.
    ``kind``      ``command``, ``inference``, ``schema``, ``performance`` or ``drift``.
    ``required``  ``true`` (default) or ``false``.
    ``timeout``   ``"90s"``, ``"10m"``, ``"1h"`` or an integer number of seconds.
                  Default ``"10m"``, at most ``"2h"``.

Kinds and their own fields
    ``command``      ``run`` (required): a shell line; passes when it exits with status 0.
    ``inference``    ``run`` (required) writes forecasts; then the files matching
                     ``predictions`` (required) are validated: every ``unit`` (required,
                     e.g. ``country_id``) in every month of ``time`` (default ``month_id``),
                     exactly ``steps`` (required) consecutive months starting at
                     ``first_month`` (optional), each unit-month once; no NaN, infinite
                     or (for count targets) negative values, draws included; the same
                     number of draws in every row. ``count_targets`` = ``true``/``false``
                     overrides the default guess (``pred_ln_*`` and ``pred_*_ged_*`` columns
                     are counts). Each matched file must hold a complete forecast.
    ``schema``       ``files`` (required unless taken from ``from``): prediction or feature
                     files. ``columns`` is a table of per-column rules: ``type``
                     (``"float32"``, ``"list<float32>"``, ``"int64"``, ``"string"``, the
                     generic ``"float"``, ``"int"``, ``"number"``...), ``required``
                     (default ``true``), ``max_missing`` / ``max_zero`` (share of values,
                     0 to 1, over the whole file) and ``max_missing_month`` /
                     ``max_zero_month`` (the same, in any single month of ``time``),
                     ``min``, ``max``, ``extreme_sd``. A top-level ``extreme_sd = k`` fails
                     every numeric column (but ``*_id`` columns) with a value more than k standard
                     deviations from its mean. Draws in list columns count as values.
    ``performance``  ``metrics`` (required unless taken from ``from``): a JSON list of
                     objects, a CSV or a parquet file in long format with columns ``model``,
                     ``target``, ``metric``, ``step`` (optional) and ``value``. Each metric
                     is compared with the production release's value for the same model,
                     target, metric and step. ``tolerance`` (relative, default 0) and
                     ``abs_tolerance`` (default 0) say how much worse is still accepted.
                     ``directions = { my_metric = "higher" }`` names the direction of
                     metrics that ewsdash does not know.
    ``drift``        ``predictions`` (required unless taken from ``from``), ``columns`` (list
                     of column names; default: every ``pred_*`` column) and ``options`` (a
                     table handed as is to the drift engine).

Files written by one check, read by another
    Every check gets its own empty artifacts folder, ``{artifacts}`` in its fields. A check
    that runs no command of its own (``schema``, ``performance`` or ``drift`` without
    ``run``) reads the folder of an earlier check named by ``from``: there ``{artifacts}``
    means that check's folder, and ``files``/``predictions`` default to that check's
    ``predictions`` pattern. A check that has its own ``run`` may read an earlier
    check's folder as ``{artifacts:NAME}``, e.g.
    ``run = "python evaluate.py --in {artifacts:inference} --out {artifacts}"``.
    Either way the check runs only after the check it reads from has run.

Paths
    File patterns are globs (``*``, ``?``, ``[ab]``, ``**``) relative to the candidate's
    worktree, or starting with ``{artifacts}`` / ``{artifacts:NAME}`` / ``{worktree}``.
    Absolute paths, ``~`` and ``..`` are refused, and a matched file that resolves
    (through a symbolic link) outside its folder is refused when the check runs. In
    ``run``, the placeholders are replaced by shell-quoted absolute paths; other braces are
    left alone for the shell.

Commands run with ``/bin/sh -c`` in the candidate's worktree, in their own process group,
with the time limit, a bounded log and an environment that carries no ewsdash secret
(``EWSDASH_ARTIFACTS`` and ``EWSDASH_WORKTREE`` are set).

Example::

    [[check]]
    name = "inference"
    kind = "inference"
    run = "python run_inference.py --out {artifacts}"
    predictions = "{artifacts}/*.parquet"
    unit = "country_id"
    steps = 36

    [[check]]
    name = "performance"
    kind = "performance"
    from = "inference"
    metrics = "{artifacts}/metrics.json"
    tolerance = 0.01
"""

from __future__ import annotations

import math
import re
import shlex
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ALL_KINDS",
    "CheckSpec",
    "ColumnRule",
    "DEFAULT_TIMEOUT_S",
    "MAX_TIMEOUT_S",
    "Manifest",
    "ManifestError",
    "PathEscapeError",
    "expand_placeholders",
    "find_files",
    "parse_duration",
    "parse_manifest",
]

DEFAULT_TIMEOUT_S = 600
MAX_TIMEOUT_S = 2 * 3600
ALL_KINDS = ("command", "drift", "inference", "performance", "schema")

# Type names a schema rule may use; ``schema.py`` maps them onto Arrow types.
SCALAR_TYPES = (
    "bool",
    "date32",
    "float",
    "float16",
    "float32",
    "float64",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "number",
    "string",
    "timestamp",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
)

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_DURATION = re.compile(r"\s*(\d+)\s*(s|m|h)\s*")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
_PLACEHOLDER = re.compile(r"\{(artifacts|worktree)(?::([^{}\s]*))?\}")
_TYPE = re.compile(r"(?:list<\s*(\w+)\s*>|(\w+))")

_COMMON = ("name", "kind", "required", "timeout")
_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "command": ("run",),
    "inference": ("run", "predictions", "unit", "time", "steps", "first_month", "count_targets"),
    "schema": ("run", "from", "files", "time", "columns", "extreme_sd"),
    "performance": (
        "run",
        "from",
        "metrics",
        "tolerance",
        "abs_tolerance",
        "directions",
    ),
    "drift": ("run", "from", "predictions", "columns", "options"),
}
_RULE_FIELDS = (
    "type",
    "required",
    "max_missing",
    "max_missing_month",
    "max_zero",
    "max_zero_month",
    "min",
    "max",
    "extreme_sd",
)
_SHARE_FIELDS = ("max_missing", "max_missing_month", "max_zero", "max_zero_month")


class ManifestError(ValueError):
    """A manifest that cannot be used; the message says where and why."""

    def __init__(
        self,
        problem: str,
        *,
        path: str,
        line: int | None = None,
        check: str | None = None,
        field: str | None = None,
    ) -> None:
        self.problem = problem
        self.path = path
        self.line = line
        self.check = check
        self.field = field
        where = [path]
        if line is not None:
            where.append(f"line {line}")
        if check is not None:
            where.append(f'check "{check}"')
        if field is not None:
            where.append(f'field "{field}"')
        super().__init__(f"{', '.join(where)}: {problem}")


class PathEscapeError(ValueError):
    """A file pattern or a matched file that leaves the folder it must stay in."""


@dataclass(frozen=True)
class ColumnRule:
    """What a ``schema`` check demands of one column."""

    column: str
    type: str | None = None
    required: bool = True
    max_missing: float | None = None
    max_missing_month: float | None = None
    max_zero: float | None = None
    max_zero_month: float | None = None
    min: float | None = None
    max: float | None = None
    extreme_sd: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"required": self.required}
        for name in _RULE_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True)
class CheckSpec:
    """One declared check. Fields that do not apply to its kind keep their defaults."""

    name: str
    kind: str
    required: bool = True
    timeout_s: int = DEFAULT_TIMEOUT_S
    run: str | None = None
    from_check: str | None = None
    predictions: str | None = None
    files: str | None = None
    metrics: str | None = None
    unit: str | None = None
    time: str = "month_id"
    steps: int | None = None
    first_month: int | None = None
    count_targets: bool | None = None  # None: guess from the column name
    columns: tuple[str, ...] = ()  # drift
    column_rules: tuple[ColumnRule, ...] = ()  # schema
    extreme_sd: float | None = None
    tolerance: float = 0.0
    abs_tolerance: float = 0.0
    directions: tuple[tuple[str, str], ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)
    line: int | None = field(default=None, compare=False)

    @property
    def artifacts_owner(self) -> str:
        """The check whose artifacts folder ``{artifacts}`` means in this check."""
        return self.from_check or self.name

    @property
    def depends_on(self) -> tuple[str, ...]:
        """Earlier checks whose artifacts this check reads, in manifest order of mention."""
        names: list[str] = []
        if self.from_check:
            names.append(self.from_check)
        for text in (self.run, self.pattern):
            for match in _PLACEHOLDER.finditer(text or ""):
                if match.group(1) == "artifacts" and match.group(2):
                    if match.group(2) not in names:
                        names.append(match.group(2))
        return tuple(names)

    @property
    def pattern(self) -> str | None:
        """The file pattern this check validates, whatever its kind calls it."""
        if self.kind == "schema":
            return self.files
        if self.kind == "performance":
            return self.metrics
        if self.kind in ("inference", "drift"):
            return self.predictions
        return None

    @property
    def direction_overrides(self) -> dict[str, str]:
        return dict(self.directions)

    def to_dict(self) -> dict[str, Any]:
        """The check as manifest fields (TOML names, explicit values), JSON-able."""
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "required": self.required,
            "timeout": self.timeout_s,
        }
        for key in _KIND_FIELDS[self.kind]:
            value = self._field_value(key)
            if value is not None:
                out[key] = value
        return out

    def _field_value(self, key: str) -> Any:
        if key == "from":
            return self.from_check
        if key == "columns":
            if self.kind == "schema":
                return {rule.column: rule.to_dict() for rule in self.column_rules}
            return list(self.columns) if self.columns else None
        if key == "directions":
            return dict(self.directions) if self.directions else None
        if key == "options":
            return dict(self.options) if self.options else None
        return getattr(self, key)


@dataclass(frozen=True)
class Manifest:
    path: str
    checks: tuple[CheckSpec, ...]

    def check(self, name: str) -> CheckSpec:
        for spec in self.checks:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def required_checks(self) -> tuple[CheckSpec, ...]:
        return tuple(spec for spec in self.checks if spec.required)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "check": [spec.to_dict() for spec in self.checks]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Manifest:
        """Rebuild a manifest stored with :meth:`to_dict`; it is validated again."""
        path = str(data.get("path", "ewsdash.toml"))
        return _build({"check": data.get("check", [])}, "", path)


def parse_manifest(text: str, *, path: str = "ewsdash.toml") -> Manifest:
    """Parse and validate a manifest; raise :class:`ManifestError` naming file, line, field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line = int(found.group(1)) if found else None
        detail = re.sub(r"\s*\(at line \d+, column (\d+)\)", r" (column \1)", message)
        raise ManifestError(f"invalid TOML: {detail}", path=path, line=line) from None
    return _build(data, text, path)


def parse_duration(value: Any) -> int:
    """Seconds in ``"90s"``, ``"10m"``, ``"1h"`` or an integer; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f'expected a duration like "90s", "10m" or "1h", got {value!r}')
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        found = _DURATION.fullmatch(value)
        if found:
            return int(found.group(1)) * _UNIT_SECONDS[found.group(2)]
    raise ValueError(f'expected a duration like "90s", "10m" or "1h", got {value!r}')


# --- building and validating ---------------------------------------------------------------


class _Lines:
    """Finds the line of a check's header or of a key inside it by scanning the raw text.

    tomllib reports positions only for syntax errors, so semantic errors locate themselves
    here: the n-th ``[[check]]`` header starts check n, and a key is searched from there to
    the next header. Inline tables and sub-tables (``[check.columns.x]``) are covered by
    searching the keys of a nested field one after the other.
    """

    _HEADER = re.compile(r"^\s*\[\[\s*check\s*\]\]")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [i for i, line in enumerate(self.lines) if self._HEADER.match(line)]

    def of(self, index: int | None, *keys: str) -> int | None:
        if index is None:
            start, end = 0, len(self.lines)
            if not keys:
                return None
        elif index < len(self.headers):
            start = self.headers[index]
            end = self.headers[index + 1] if index + 1 < len(self.headers) else len(self.lines)
        else:
            return self._key_line(0, len(self.lines), "check") if self.lines else None
        found = start
        for key in keys:
            line = self._key_line(found, end, key)
            if line is None:
                break
            found = line
        return found + 1 if found < len(self.lines) else None

    def _key_line(self, start: int, end: int, key: str) -> int | None:
        quoted = re.escape(key)
        pattern = re.compile(rf"(?:^|[{{,\s.\[])(?:{quoted}|\"{quoted}\"|'{quoted}')\s*(?:=|\]|\.)")
        for i in range(start, end):
            stripped = self.lines[i].split("#", 1)[0] if "#" in self.lines[i] else self.lines[i]
            if pattern.search(stripped):
                return i
        return None


class _Builder:
    def __init__(self, text: str, path: str) -> None:
        self.lines = _Lines(text)
        self.path = path

    def fail(
        self,
        problem: str,
        *,
        index: int | None = None,
        check: str | None = None,
        keys: Sequence[str] = (),
    ) -> ManifestError:
        line = self.lines.of(index, *keys)
        field_name = ".".join(keys) if keys else None
        return ManifestError(problem, path=self.path, line=line, check=check, field=field_name)


def _build(data: Mapping[str, Any], text: str, path: str) -> Manifest:
    b = _Builder(text, path)
    unknown = sorted(set(data) - {"check"})
    if unknown:
        raise b.fail(
            f'unknown top-level key "{unknown[0]}" (a manifest holds only [[check]] tables)',
            index=None,
            keys=(unknown[0],),
        )
    raw_checks = data.get("check")
    if raw_checks is None or raw_checks == []:
        raise b.fail("the manifest declares no checks (add a [[check]] table)")
    if not isinstance(raw_checks, list) or not all(isinstance(c, dict) for c in raw_checks):
        raise b.fail("check must be a list of tables, written as [[check]]", keys=("check",))

    specs: list[CheckSpec] = []
    for index, raw in enumerate(raw_checks):
        specs.append(_build_check(b, index, raw, specs))
    return Manifest(path=path, checks=tuple(specs))


def _build_check(
    b: _Builder, index: int, raw: Mapping[str, Any], earlier: Sequence[CheckSpec]
) -> CheckSpec:
    name_value = raw.get("name")
    label = name_value if isinstance(name_value, str) else f"#{index + 1}"

    def fail(problem: str, *keys: str) -> ManifestError:
        return b.fail(problem, index=index, check=label, keys=keys)

    def get(key: str, kind: type | tuple[type, ...], what: str, default: Any = None) -> Any:
        if key not in raw:
            return default
        value = raw[key]
        # bool is an int in Python; a number field must not accept true/false.
        if isinstance(value, bool) and bool not in _as_tuple(kind):
            raise fail(f"expected {what}, got {_show(value)}", key)
        if not isinstance(value, kind):
            raise fail(f"expected {what}, got {_show(value)}", key)
        return value

    if "name" not in raw:
        raise fail("missing required field (every check needs a name)", "name")
    name = get("name", str, "a string")
    if not _SLUG.fullmatch(name):
        raise fail(
            f"invalid name {name!r} (use lower-case letters, digits, - and _; at most 63)",
            "name",
        )
    if any(spec.name == name for spec in earlier):
        raise fail(f'duplicate name "{name}" (check names must be unique)', "name")

    if "kind" not in raw:
        raise fail("missing required field", "kind")
    kind = get("kind", str, "a string")
    if kind not in _KIND_FIELDS:
        raise fail(f'unknown kind "{kind}" (expected one of {", ".join(ALL_KINDS)})', "kind")

    allowed = set(_COMMON) | set(_KIND_FIELDS[kind])
    for key in raw:
        if key not in allowed:
            hint = _suggest(key, sorted(allowed))
            raise fail(
                f"unknown field for a {kind} check{hint} (allowed: {', '.join(sorted(allowed))})",
                key,
            )

    required = get("required", bool, "true or false", True)
    timeout_s = DEFAULT_TIMEOUT_S
    if "timeout" in raw:
        try:
            timeout_s = parse_duration(raw["timeout"])
        except ValueError as exc:
            raise fail(str(exc), "timeout") from None
        if not 1 <= timeout_s <= MAX_TIMEOUT_S:
            raise fail(
                f"timeout must be between 1s and {MAX_TIMEOUT_S // 3600}h, got {timeout_s}s",
                "timeout",
            )

    run = get("run", str, "a shell command (string)")
    if run is not None and not run.strip():
        raise fail("run must not be empty", "run")
    if kind in ("command", "inference") and run is None:
        raise fail(f"missing required field (a {kind} check runs a command)", "run")

    from_check = get("from", str, "the name of an earlier check")
    source: CheckSpec | None = None
    if from_check is not None:
        if run is not None:
            raise fail(
                "a check with its own run writes its own {artifacts}; "
                "read another check's files as {artifacts:NAME} instead of from",
                "from",
            )
        source = next((spec for spec in earlier if spec.name == from_check), None)
        if source is None:
            later = from_check in _later_names(b, index)
            problem = (
                f'check "{from_check}" comes later; from must name an earlier check'
                if later
                else f'unknown check "{from_check}"'
            )
            raise fail(problem, "from")

    values: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "required": required,
        "timeout_s": timeout_s,
        "run": run,
        "from_check": from_check,
        "line": b.lines.of(index),
    }

    known = [spec.name for spec in earlier]
    if run is not None:
        _check_run_placeholders(run, known, lambda p: fail(p, "run"))

    if kind == "inference":
        values["predictions"] = _pattern(raw, "predictions", known, fail, required=True)
        values["unit"] = _identifier(get("unit", str, "a column name"), "unit", fail, True)
        values["time"] = _identifier(
            get("time", str, "a column name", "month_id"), "time", fail, True
        )
        steps = get("steps", int, "an integer", None)
        if steps is None:
            raise fail("missing required field (how many months ahead, e.g. 36)", "steps")
        if not 1 <= steps <= 1200:
            raise fail(f"steps must be between 1 and 1200, got {steps}", "steps")
        values["steps"] = steps
        values["first_month"] = get("first_month", int, "an integer month id")
        values["count_targets"] = get("count_targets", bool, "true or false")

    if kind in ("schema", "drift"):
        key = "files" if kind == "schema" else "predictions"
        pattern = _pattern(raw, key, known, fail, required=False)
        if pattern is None and source is not None and source.predictions:
            pattern = source.predictions
        if pattern is None:
            raise fail(
                "missing required field (a file pattern, or from naming an inference check)",
                key,
            )
        values[key] = pattern

    if kind == "performance":
        values["metrics"] = _pattern(raw, "metrics", known, fail, required=True)
        for key in ("tolerance", "abs_tolerance"):
            value = get(key, (int, float), "a number", 0.0)
            if not (math.isfinite(value) and value >= 0):
                raise fail(f"{key} must be a finite number >= 0, got {value}", key)
            values[key] = float(value)
        directions = get("directions", dict, 'a table like { my_metric = "higher" }', {})
        for metric, direction in directions.items():
            if direction not in ("lower", "higher"):
                raise fail(
                    f'direction of "{metric}" must be "lower" or "higher", got {_show(direction)}',
                    "directions",
                    metric,
                )
        values["directions"] = tuple(sorted(directions.items()))

    if kind == "schema":
        values["time"] = _identifier(
            get("time", str, "a column name", "month_id"), "time", fail, True
        )
        values["extreme_sd"] = _positive(
            get("extreme_sd", (int, float), "a number"), "extreme_sd", fail
        )
        rules = get("columns", dict, "a table of column rules", {})
        values["column_rules"] = tuple(
            _column_rule(column, rule, fail) for column, rule in rules.items()
        )

    if kind == "drift":
        columns = get("columns", list, "a list of column names", [])
        for column in columns:
            if not isinstance(column, str) or not column:
                raise fail(f"expected column names (strings), got {_show(column)}", "columns")
        values["columns"] = tuple(columns)
        values["options"] = dict(get("options", dict, "a table", {}))

    spec = CheckSpec(**values)
    if spec.from_check is None and spec.run is None and spec.pattern is not None:
        if spec.pattern.startswith("{artifacts}"):
            key = {"schema": "files", "performance": "metrics"}.get(kind, "predictions")
            raise fail(
                "{artifacts} is this check's own folder, but it runs no command to fill it; "
                'add from = "<check that writes the files>"',
                key,
            )
    return spec


def _check_run_placeholders(run: str, known: Sequence[str], fail: Any) -> None:
    for match in _PLACEHOLDER.finditer(run):
        ref = match.group(2)
        if match.group(1) == "worktree" and ref is not None:
            raise fail(f"unknown placeholder {match.group(0)}")
        if match.group(1) == "artifacts" and ref is not None and ref not in known:
            raise fail(f'{match.group(0)} must name an earlier check; "{ref}" is not one')


def _pattern(
    raw: Mapping[str, Any], key: str, known: Sequence[str], fail: Any, *, required: bool
) -> str | None:
    if key not in raw:
        if required:
            raise fail("missing required field (a file path or glob)", key)
        return None
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        raise fail(f"expected a file path or glob (string), got {_show(value)}", key)
    try:
        _split_pattern(value, known)
    except PathEscapeError as exc:
        raise fail(str(exc), key) from None
    return value


def _split_pattern(pattern: str, known: Sequence[str] | None = None) -> tuple[str, str | None, str]:
    """Split a pattern into (root kind, check name, relative glob) and refuse escapes.

    The root is ``"worktree"`` or ``"artifacts"``; the check name is set for
    ``{artifacts:NAME}``. ``known`` (when given) lists the checks that may be named.
    """
    root, ref, rest = "worktree", None, pattern
    found = _PLACEHOLDER.match(pattern)
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
        if _PLACEHOLDER.search(rest):
            raise PathEscapeError(f"placeholders may only start a pattern: {pattern!r}")
    parts = re.split(r"[/\\]", rest)
    if ".." in parts:
        raise PathEscapeError(f"{pattern!r} leaves its folder (.. is not allowed)")
    if not rest or all(part in ("", ".") for part in parts):
        raise PathEscapeError(f"{pattern!r} names a folder, not files")
    return root, ref, rest


def _identifier(value: Any, key: str, fail: Any, required: bool) -> str | None:
    if value is None:
        if required:
            raise fail("missing required field (a column name)", key)
        return None
    if not value.strip():
        raise fail("must not be empty", key)
    return str(value)


def _positive(value: Any, key: str, fail: Any, *keys: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(f"expected a number, got {_show(value)}", *(keys or (key,)))
    if not (math.isfinite(value) and value > 0):
        raise fail(f"must be a finite number > 0, got {value}", *(keys or (key,)))
    return float(value)


def _column_rule(column: str, rule: Any, fail: Any) -> ColumnRule:
    if not isinstance(rule, dict):
        raise fail(
            f'expected a table of rules like {{ type = "float32" }}, got {_show(rule)}',
            "columns",
            column,
        )
    for key in rule:
        if key not in _RULE_FIELDS:
            hint = _suggest(key, list(_RULE_FIELDS))
            raise fail(
                f"unknown column rule{hint} (allowed: {', '.join(_RULE_FIELDS)})",
                "columns",
                column,
                key,
            )
    values: dict[str, Any] = {"column": column}
    if "type" in rule:
        type_name = rule["type"]
        if not isinstance(type_name, str) or not _valid_type(type_name):
            raise fail(
                f"unknown type {_show(type_name)} (expected one of {', '.join(SCALAR_TYPES)}, "
                'or "list<...>" of one of them)',
                "columns",
                column,
                "type",
            )
        values["type"] = type_name.replace(" ", "")
    if "required" in rule:
        if not isinstance(rule["required"], bool):
            raise fail(
                f"expected true or false, got {_show(rule['required'])}",
                "columns",
                column,
                "required",
            )
        values["required"] = rule["required"]
    for key in _SHARE_FIELDS:
        if key in rule:
            value = rule[key]
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not (0 <= value <= 1)
            ):
                raise fail(
                    f"expected a share between 0 and 1, got {_show(value)}", "columns", column, key
                )
            values[key] = float(value)
    for key in ("min", "max"):
        if key in rule:
            value = rule[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise fail(f"expected a number, got {_show(value)}", "columns", column, key)
            values[key] = float(value)
    if "extreme_sd" in rule:
        values["extreme_sd"] = _positive(
            rule["extreme_sd"], "extreme_sd", fail, "columns", column, "extreme_sd"
        )
    return ColumnRule(**values)


def _valid_type(name: str) -> bool:
    found = _TYPE.fullmatch(name.strip().replace(" ", ""))
    if not found:
        return False
    return (found.group(1) or found.group(2)) in SCALAR_TYPES


def _later_names(b: _Builder, index: int) -> set[str]:
    # Only used to word an error well: a `from` naming a later check vs a typo.
    names: set[str] = set()
    for i in range(index + 1, len(b.lines.headers)):
        start = b.lines.headers[i]
        end = b.lines.headers[i + 1] if i + 1 < len(b.lines.headers) else len(b.lines.lines)
        for line in b.lines.lines[start:end]:
            found = re.match(r"\s*name\s*=\s*[\"']([^\"']+)[\"']", line)
            if found:
                names.add(found.group(1))
    return names


def _suggest(key: str, allowed: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, allowed, n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _show(value: Any) -> str:
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


# --- using a manifest at run time ----------------------------------------------------------


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

    return _PLACEHOLDER.sub(substitute, text)


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
    root_kind, ref, rest = _split_pattern(pattern)
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
