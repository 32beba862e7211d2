"""What a promotion changes in the governed repository's files, read from the cache clone.

The compare page asks: which files change (a diffstat), which models and ensembles, how
their configs change (hyperparameters shown as a diff), and which deployment statuses
move. Two commits never change, so neither does the answer.

It reads the bare clone without its file lock: git's reads are safe beside a fetch, and a
page must not wait for a sync that holds the lock while it talks to the origin. A commit
the clone lacks (not synced yet) gives an explanation instead of an error page.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from monitoring.deployments import StatusChange
from monitoring.pipeline_configs import (
    CONFIG_PATH_RE,
    DEPLOYMENT_FILE,
    STATUS_KEY,
    Unreadable,
    read_config,
)
from releases import git
from releases.clones import clone_dir
from releases.models import Repository

# models/<name>/... and ensembles/<name>/...
UNIT_RE = re.compile(r"^(models|ensembles)/([^/]+)/")
CONFIG_RE = re.compile(r"^(models|ensembles)/[^/]+/configs/[^/]+\.py$")
# Bounds that keep the page small whatever a release changes.
MAX_FILES = 200
MAX_CONFIG_DIFFS = 30
MAX_DIFF_LINES = 200


@dataclass(frozen=True)
class FileChange:
    path: str
    added: int | None  # None: a binary file
    removed: int | None


@dataclass(frozen=True)
class ConfigDiff:
    path: str
    lines: list[str]  # the unified diff's lines from the first hunk on
    cut: int = 0  # lines left out

    @property
    def hyperparameters(self) -> bool:
        return self.path.endswith("config_hyperparameters.py")


@dataclass
class CodeChanges:
    base: str
    tip: str
    files: list[FileChange] = field(default_factory=list)
    files_cut: int = 0
    units: list[str] = field(default_factory=list)  # "models/<name>", "ensembles/<name>"
    configs: list[ConfigDiff] = field(default_factory=list)
    statuses: list[StatusChange] = field(default_factory=list)
    error: str = ""

    @property
    def added(self) -> int:
        return sum(f.added or 0 for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed or 0 for f in self.files)


def _numstat(repo: git.GitRepo, base: str, tip: str) -> list[FileChange]:
    out = repo.run("diff", "--numstat", "--no-renames", "-z", base, tip)
    changes = []
    for record in out.split("\x00"):
        parts = record.strip("\n").split("\t")
        if len(parts) != 3:
            continue
        added, removed, path = parts
        changes.append(
            FileChange(
                path,
                int(added) if added.isdigit() else None,
                int(removed) if removed.isdigit() else None,
            )
        )
    return changes


def _config_diffs(repo: git.GitRepo, base: str, tip: str, paths: list[str]) -> list[ConfigDiff]:
    """One unified diff per config file, hyperparameters first, each bounded."""
    ordered = sorted(paths, key=lambda p: (not p.endswith("config_hyperparameters.py"), p))
    diffs = []
    for path in ordered[:MAX_CONFIG_DIFFS]:
        out = repo.run("diff", "--no-color", "--no-ext-diff", "-U3", base, tip, "--", path)
        lines = out.splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith("@@")), len(lines))
        body = lines[start:]
        diffs.append(
            ConfigDiff(path, body[:MAX_DIFF_LINES], cut=max(0, len(body) - MAX_DIFF_LINES))
        )
    return diffs


def _status_changes(repo: git.GitRepo, base: str, tip: str, paths: list[str]) -> list[StatusChange]:
    """Only a changed (added, removed) config_deployment.py can change a model's status,
    so only those are read: two reads per changed file, not per model."""
    changes = []
    for path in sorted(paths):
        match = CONFIG_PATH_RE.match(path)
        if match is None or match.group(3) != DEPLOYMENT_FILE:
            continue
        sides = [_status_at(repo, commit, path) for commit in (base, tip)]
        if sides[0] != sides[1]:
            changes.append(StatusChange(match.group(2), sides[0], sides[1]))
    return changes


def _status_at(repo: git.GitRepo, commit: str, path: str) -> str | None:
    """The deployment status one config file declares at `commit` (None: no file or none
    declared; "unreadable" when it cannot be read without running it)."""
    data = git.read_file_at(repo, commit, path)
    if data is None:
        return None
    try:
        return read_config(data, path=path).get(STATUS_KEY)
    except Unreadable:
        return "unreadable"


# Answers kept per process: two commits never change, and reading them costs about twenty
# git calls (~50 ms, most of a compare page's server time). Errors are not kept: a sync
# may bring the missing commit.
_ANSWERS: OrderedDict[tuple[str, str, str], CodeChanges] = OrderedDict()
_ANSWERS_KEPT = 64
_ANSWERS_LOCK = threading.Lock()


def code_changes(*, repository: Repository, base: str, tip: str) -> CodeChanges:
    """What changes from commit `base` to commit `tip` (both full ids). Treat the answer
    as read-only: it is shared with later calls for the same commits."""
    key = (str(clone_dir(repository.name)), base, tip)
    with _ANSWERS_LOCK:
        if key in _ANSWERS:
            _ANSWERS.move_to_end(key)
            return _ANSWERS[key]
    found = _read_code_changes(repository=repository, base=base, tip=tip)
    if not found.error:
        with _ANSWERS_LOCK:
            _ANSWERS[key] = found
            while len(_ANSWERS) > _ANSWERS_KEPT:
                _ANSWERS.popitem(last=False)
    return found


def _read_code_changes(*, repository: Repository, base: str, tip: str) -> CodeChanges:
    found = CodeChanges(base=base, tip=tip)
    if not base or not tip:
        found.error = "One side has no commit to compare."
        return found
    path = clone_dir(repository.name)
    if not path.exists():
        found.error = "This machine has no clone of the repository yet; sync it first."
        return found
    repo = git.GitRepo(path)
    for commit in (base, tip):
        if git.resolve_commit(repo, commit) is None:
            found.error = f"The clone has no commit {commit[:10]}; sync the repository first."
            return found
    try:
        files = _numstat(repo, base, tip)
        found.files, found.files_cut = files[:MAX_FILES], max(0, len(files) - MAX_FILES)
        found.units = sorted(
            {"/".join(m.groups()) for f in files if (m := UNIT_RE.match(f.path)) is not None}
        )
        found.configs = _config_diffs(
            repo, base, tip, [f.path for f in files if CONFIG_RE.match(f.path)]
        )
        found.statuses = _status_changes(repo, base, tip, [f.path for f in files])
    except git.GitError as error:
        found.error = f"git could not compare them: {error}"
    return found
