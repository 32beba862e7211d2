"""Reading a VIEWS repository's model and ensemble configs without running them (no Django).

A VIEWS pipeline repository keeps one folder per model (`models/<name>/`) and per
ensemble (`ensembles/<name>/`), each with a `configs/` folder of Python files. Two of them
say where the model stands:

- `configs/config_deployment.py`, whose `get_deployment_config()` returns a dict with
  `deployment_status` (shadow, deployed, baseline, deprecated);
- `configs/config_maturity.py` (views-pipeline-core ADR-057), whose
  `get_maturity_config()` returns a dict with `maturity` (candidate, graduate, retired).
  When both files exist the pipeline reads `config_maturity.py` only, and so does this.

These files are code of the governed repository. They are parsed with `ast` and never
imported or executed: only literal values are read (a dict display, `dict(k=...)`,
assignments of literals to a name or to one of its keys, and the module-level
`deployment_status = "..."` form). Anything else is reported as a problem naming the file,
the line and what could not be read, never guessed.
"""

from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass
from typing import Any

KINDS = {"models": "model", "ensembles": "ensemble"}
DEPLOYMENT_FILE = "config_deployment.py"
MATURITY_FILE = "config_maturity.py"
STATUS_KEY = "deployment_status"
MATURITY_KEY = "maturity"
KNOWN_STATUSES = ("shadow", "deployed", "baseline", "deprecated")
KNOWN_MATURITIES = ("candidate", "graduate", "retired")
# Config files are a few kilobytes; a huge one is not a config and is not parsed.
MAX_CONFIG_BYTES = 256 * 1024
CONFIG_PATH_RE = re.compile(r"^(models|ensembles)/([^/]+)/configs/([^/]+)$")


@dataclass(frozen=True)
class ConfigItem:
    """One model or ensemble at one commit, as `deployments NAME --json` prints it."""

    name: str
    kind: str  # "model" | "ensemble"
    status: str | None  # deployment_status, None when the file declares none
    maturity: str | None  # maturity, None when the file declares none
    path: str  # the file read, or the configs folder when there is none to read
    problem: str = ""  # why status/maturity could not be read ("" when they could)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Unreadable(ValueError):
    """A config file that cannot be read without running it; the message says why."""


@dataclass(frozen=True)
class ConfigFolder:
    """The config files one model or ensemble has at a commit: {file name: blob id}."""

    top: str  # "models" | "ensembles"
    name: str
    files: dict[str, str]

    @property
    def kind(self) -> str:
        return KINDS[self.top]

    @property
    def folder(self) -> str:
        return f"{self.top}/{self.name}/configs"

    @property
    def chosen(self) -> str | None:
        """The file the pipeline reads: config_maturity.py wins over config_deployment.py."""
        for file in (MATURITY_FILE, DEPLOYMENT_FILE):
            if file in self.files:
                return file
        return None


def config_folders(listing: list[tuple[str, str]]) -> list[ConfigFolder]:
    """Model and ensemble config folders from `(path, blob id)` pairs of a tree listing.

    A folder counts when it has any file under `configs/`: a model whose deployment and
    maturity files are both missing is still listed (with that problem).
    """
    found: dict[tuple[str, str], dict[str, str]] = {}
    for path, blob in listing:
        match = CONFIG_PATH_RE.match(path)
        if match:
            top, name, file = match.groups()
            found.setdefault((top, name), {})[file] = blob
    return [ConfigFolder(top, name, files) for (top, name), files in sorted(found.items())]


def item_from_folder(folder: ConfigFolder, data: bytes | None) -> ConfigItem:
    """The item for `folder`, `data` being the bytes of its chosen file."""
    chosen = folder.chosen
    if chosen is None:
        return ConfigItem(
            folder.name,
            folder.kind,
            None,
            None,
            folder.folder,
            f"no {DEPLOYMENT_FILE} or {MATURITY_FILE} in {folder.folder}",
        )
    path = f"{folder.folder}/{chosen}"
    try:
        values = read_config(data if data is not None else b"", path=path)
    except Unreadable as error:
        return ConfigItem(folder.name, folder.kind, None, None, path, str(error))
    status, maturity = values.get(STATUS_KEY), values.get(MATURITY_KEY)
    problems = [
        f"{path}: unknown {key} {value!r} (known: {', '.join(known)})"
        for key, value, known in (
            (STATUS_KEY, status, KNOWN_STATUSES),
            (MATURITY_KEY, maturity, KNOWN_MATURITIES),
        )
        if value is not None and value not in known
    ]
    if status is None and maturity is None:
        problems.append(f"{path}: declares neither {STATUS_KEY} nor {MATURITY_KEY}")
    return ConfigItem(folder.name, folder.kind, status, maturity, path, "; ".join(problems))


def read_config(data: bytes, *, path: str) -> dict[str, str]:
    """{"deployment_status"|"maturity": lower-case value} declared by one config file.

    Raises Unreadable (its message names the file and line) when the file is not UTF-8,
    not Python, or declares a value that is not a literal string.
    """
    if len(data) > MAX_CONFIG_BYTES:
        raise Unreadable(f"{path}: {len(data):,} bytes, larger than a config can be")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unreadable(f"{path}: not UTF-8 (byte {error.start})") from None
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as error:
        raise Unreadable(f"{path}, line {error.lineno}: not valid Python ({error.msg})") from None
    except (RecursionError, MemoryError, ValueError):
        raise Unreadable(f"{path}: cannot be parsed (nested too deeply or NUL bytes)") from None
    found: dict[str, str] = {}
    # The legacy form: a module-level `deployment_status = "shadow"`.
    found.update(_wanted(_scope_assignments(tree.body), path=path))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("get_"):
            returned = _returned_dict(node, path=path)
            if returned is not None:
                found.update(_wanted(returned, path=path))
    return found


def _wanted(values: dict[str, ast.expr], *, path: str) -> dict[str, str]:
    """The status and maturity among `values`, each required to be a literal string."""
    found: dict[str, str] = {}
    for key in (STATUS_KEY, MATURITY_KEY):
        node = values.get(key)
        if node is None:
            continue
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            raise Unreadable(
                f"{path}, line {node.lineno}: {key} is not a literal string "
                f"({ast.unparse(node)[:60]})"
            )
        found[key] = node.value.strip().lower()
    return found


def _scope_assignments(body: list[ast.stmt]) -> dict[str, ast.expr]:
    """Plain `name = value` / `name: T = value` assignments at the top of one scope."""
    names: dict[str, ast.expr] = {}
    for statement in body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = statement.value
        elif (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and statement.value is not None
        ):
            names[statement.target.id] = statement.value
    return names


def _returned_dict(function: ast.FunctionDef, *, path: str) -> dict[str, ast.expr] | None:
    """The keys of the dict a `get_*_config()` function returns, as expression nodes.

    Follows the shapes VIEWS uses: `return {...}`, `return dict(...)`, or `cfg = {...}`
    then `cfg["key"] = ...` / `cfg.update({...})` then `return cfg`. None when the
    function returns no dict we can follow (another `get_*` helper, say); Unreadable when
    it returns a name built in a way we cannot follow.
    """
    built: dict[str, dict[str, ast.expr] | None] = {}
    for statement in function.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            value = statement.value
            for target in targets:
                if isinstance(target, ast.Name) and value is not None:
                    built[target.id] = _dict_display(value, path=path)
                elif (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and isinstance(target.slice, ast.Constant)
                    and isinstance(target.slice.value, str)
                    and built.get(target.value.id) is not None
                    and value is not None
                ):
                    built[target.value.id][target.slice.value] = value  # type: ignore[index]
        elif (
            isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Attribute)
            and statement.value.func.attr == "update"
            and isinstance(statement.value.func.value, ast.Name)
            and built.get(statement.value.func.value.id) is not None
            and len(statement.value.args) == 1
        ):
            update = _dict_display(statement.value.args[0], path=path)
            if update is not None:
                built[statement.value.func.value.id].update(update)  # type: ignore[union-attr]
        elif isinstance(statement, ast.Return) and statement.value is not None:
            returned = statement.value
            if isinstance(returned, ast.Name):
                if returned.id not in built:
                    raise Unreadable(
                        f"{path}, line {returned.lineno}: {function.name}() returns "
                        f"{returned.id}, which is not assigned in it"
                    )
                result = built[returned.id]
                if result is None:
                    raise Unreadable(
                        f"{path}, line {returned.lineno}: {function.name}() returns "
                        f"{returned.id}, which is not a dict literal"
                    )
                return result
            result = _dict_display(returned, path=path)
            if result is None:
                raise Unreadable(
                    f"{path}, line {returned.lineno}: {function.name}() returns "
                    f"{ast.unparse(returned)[:60]}, not a dict literal"
                )
            return result
    return None


def _dict_display(node: ast.expr, *, path: str) -> dict[str, ast.expr] | None:
    """{key: value node} of a `{...}` display with string keys or a `dict(k=v)` call."""
    if isinstance(node, ast.Dict):
        entries: dict[str, ast.expr] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:  # `**other`: what it adds is not known without running it
                continue
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                entries[key.value] = value
        return entries
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "dict"
        and not node.args
    ):
        return {kw.arg: kw.value for kw in node.keywords if kw.arg is not None}
    return None
