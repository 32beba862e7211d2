"""The validation manifest: which staging checks a governed repository declares.

The manifest is a TOML file at the root of the governed repository (``ewsdash.toml`` unless
the repository is registered with another path). It is a list of ``[[check]]`` tables, run
in the order written. A release candidate is *validated* when every check with
``required = true`` passes; checks with ``required = false`` are advisory (shown, not
blocking).

Fields every check has
    ``name``      unique slug: lower-case letters, digits, ``-`` and ``_``, at most 63 chars.
    ``kind``      ``command``, ``inference``, ``schema``, ``performance``, ``drift`` or
                  ``external``.
    ``required``  ``true`` (default) or ``false``.
    ``timeout``   ``"90s"``, ``"10m"``, ``"1h"`` or an integer number of seconds.
                  Default ``"10m"``, at most ``"2h"``.
    ``secrets``   (a check with ``run`` only) the repository's secrets its command gets, as
                  environment variables of the same names: ``["VIEWSER_TOKEN"]``.
    ``network``   (a check with ``run`` only) ``true``: its command needs the network; it
                  gets it only where an admin allowed it for the repository.

Kinds and their own fields (each kind is a module of ``kinds/`` that reads them)
    ``command``      ``run`` (required): a shell line; passes when it exits with status 0.
    ``inference``    ``run`` (required) writes forecasts; then the files matching
                     ``predictions`` (required) are validated: every ``unit`` (required,
                     e.g. ``country_id``) in every month of ``time`` (default ``month_id``),
                     exactly ``steps`` (required) consecutive months starting at
                     ``first_month`` (optional), each unit-month once; no NaN, infinite
                     or (for count targets) negative values, draws included; the same
                     number of draws in every row. ``count_targets`` = ``true``/``false``
                     or a regular expression on column names overrides the default
                     pattern (``pred_ln_*``, ``pred_lr_*``, ``pred_by_*``, ``*_ged_*`` are
                     counts). Each matched file must hold a complete forecast.
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
    ``external``     runs nothing: its result (status, summary, log, files) is reported
                     through the API; ``predictions`` / ``metrics`` name files the report
                     must upload (``{artifacts}/...``); ``deadline`` (default ``"24h"``).

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

This module reads the fields every check has (and ``run`` and ``from``, which work the same
for every kind) and hands the rest of the table to the check's kind; it also holds
:class:`CheckSpec`, one frozen record for every kind (a field that does not apply keeps its
default), and :class:`Manifest`, which a run stores as :meth:`Manifest.to_dict`. File
patterns and placeholders are in ``patterns.py``.

Commands run with ``/bin/sh -c`` in the candidate's worktree, in their own process group,
with the time limit, a bounded log and an environment that carries no ewsdash secret
(``EWSDASH_ARTIFACTS`` and ``EWSDASH_WORKTREE`` are set), only the repository's secrets
named in ``secrets``.

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

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .fields import CheckTable, suggest
from .kinds import KINDS, get_kind
from .patterns import PLACEHOLDER, PathEscapeError, expand_placeholders, find_files
from .schema import ColumnRule

__all__ = [
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

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_DURATION = re.compile(r"\s*(\d+)\s*(s|m|h)\s*")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}

_COMMON = ("name", "kind", "required", "timeout", "secrets", "network")
# An environment variable name a secret is handed to a check as (issue 17).
SECRET_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
# Variables ewsdash sets for every command: a secret may not take their place.
RESERVED_NAMES = frozenset(
    {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ", "USER", "PYTHONUNBUFFERED"}
)


def secret_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a secret (an environment variable of the command), or None."""
    if not SECRET_NAME.fullmatch(name):
        return (
            f"invalid secret name {name!r} (upper-case letters, digits and _, starting with a "
            "letter, at most 64)"
        )
    if name in RESERVED_NAMES or name.startswith("EWSDASH_"):
        return f"{name} is set by ewsdash for every command; name the secret otherwise"
    return None


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
    count_targets: bool | str | None = None  # a name pattern; None: the default pattern
    columns: tuple[str, ...] = ()  # drift
    column_rules: tuple[ColumnRule, ...] = ()  # schema
    extreme_sd: float | None = None
    tolerance: float = 0.0
    abs_tolerance: float = 0.0
    directions: tuple[tuple[str, Any], ...] = ()  # a sense word or a target number
    options: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)
    secrets: tuple[str, ...] = ()  # the repository's secrets its command gets, by name
    network: bool = False  # its command needs the network (and the admin must allow it)
    deadline_s: int | None = None  # external: how long its result may take to arrive
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
            for match in PLACEHOLDER.finditer(text or ""):
                if match.group(1) == "artifacts" and match.group(2):
                    if match.group(2) not in names:
                        names.append(match.group(2))
        return tuple(names)

    @property
    def pattern(self) -> str | None:
        """The file pattern this check validates, whatever its kind calls it."""
        key = get_kind(self.kind).pattern_field
        return getattr(self, key) if key else None

    @property
    def direction_overrides(self) -> dict[str, Any]:
        return dict(self.directions)

    def to_dict(self) -> dict[str, Any]:
        """The check as manifest fields (TOML names, explicit values), JSON-able."""
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "required": self.required,
            "timeout": self.timeout_s,
        }
        # Written only when set, so manifests stored before issue 17 read back the same.
        if self.secrets:
            out["secrets"] = list(self.secrets)
        if self.network:
            out["network"] = True
        kind = get_kind(self.kind)
        for key in kind.fields:
            value = kind.field_value(self, key)
            if value is not None:
                out[key] = value
        return out


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

    table = CheckTable(raw, fail, [spec.name for spec in earlier])
    get = table.get

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
    if kind not in KINDS:
        raise fail(f'unknown kind "{kind}" (expected one of {", ".join(sorted(KINDS))})', "kind")
    check_kind = KINDS[kind]

    allowed = set(_COMMON) | set(check_kind.fields)
    for key in raw:
        if key not in allowed:
            hint = suggest(key, sorted(allowed))
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
    if check_kind.requires_run and run is None:
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

    secrets, network = _secrets_and_network(table, run, fail)
    values: dict[str, Any] = {
        "secrets": secrets,
        "network": network,
        "name": name,
        "kind": kind,
        "required": required,
        "timeout_s": timeout_s,
        "run": run,
        "from_check": from_check,
        "line": b.lines.of(index),
    }

    if run is not None:
        _check_run_placeholders(run, table.known, lambda p: fail(p, "run"))

    values.update(check_kind.parse(table, source=source))

    spec = CheckSpec(**values)
    filled = check_kind.fills_own_folder
    if spec.from_check is None and spec.run is None and spec.pattern is not None and not filled:
        if spec.pattern.startswith("{artifacts}"):
            assert check_kind.pattern_field is not None  # spec.pattern is read from it
            raise fail(
                "{artifacts} is this check's own folder, but it runs no command to fill it; "
                'add from = "<check that writes the files>"',
                check_kind.pattern_field,
            )
    return spec


def _secrets_and_network(
    table: CheckTable, run: str | None, fail: Any
) -> tuple[tuple[str, ...], bool]:
    """``secrets`` (environment variable names) and ``network``: only for a command."""
    names = table.get("secrets", list, 'a list of secret names, like ["VIEWSER_TOKEN"]', [])
    for item in names:
        problem = secret_name_problem(item) if isinstance(item, str) else "not a string"
        if problem is not None:
            raise fail(f'{problem} (secrets lists names, like ["VIEWSER_TOKEN"])', "secrets")
    if len(set(names)) != len(names):
        raise fail("a secret is named twice", "secrets")
    network = table.get("network", bool, "true or false", False)
    if run is None and names:
        raise fail("secrets are handed to a command; this check runs none", "secrets")
    if run is None and network:
        raise fail("network is for a command; this check runs none", "network")
    return tuple(names), network


def _check_run_placeholders(run: str, known: Sequence[str], fail: Any) -> None:
    for match in PLACEHOLDER.finditer(run):
        ref = match.group(2)
        if match.group(1) == "worktree" and ref is not None:
            raise fail(f"unknown placeholder {match.group(0)}")
        if match.group(1) == "artifacts" and ref is not None and ref not in known:
            raise fail(f'{match.group(0)} must name an earlier check; "{ref}" is not one')


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
