"""Author git history in a working clone, with every commit's author and date scripted."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path


@dataclass(frozen=True)
class Person:
    name: str
    email: str


class GitFailed(RuntimeError):
    pass


def git_environment(who: Person, when: datetime) -> dict[str, str]:
    """An environment in which git ignores the user's own configuration and clock."""
    stamp = when.isoformat()
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LC_ALL": "C",
        "TZ": "UTC",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": who.name,
        "GIT_AUTHOR_EMAIL": who.email,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_NAME": who.name,
        "GIT_COMMITTER_EMAIL": who.email,
        "GIT_COMMITTER_DATE": stamp,
    }


def run_git(args: list[str], *, cwd: Path, who: Person, when: datetime) -> str:
    try:
        result = subprocess.run(
            ["git", "-c", "init.defaultBranch=production", *args],
            cwd=cwd,
            env=git_environment(who, when),
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as exc:
        # CalledProcessError's message leaves out stderr, which is where git says why.
        raise GitFailed(f"git {' '.join(args)} failed: {exc.stderr.strip()}") from exc
    return result.stdout.strip()


class Scribe:
    """Writes files into a working clone and records them as commits at scripted moments.

    Moments are days (fractions are the time of day) counted from `start`.
    """

    def __init__(self, work: Path, *, template: Path, start: datetime, clerk: Person) -> None:
        self.work = work
        self.template = template
        self.start = start
        # Non-committing commands still need an identity and a date; the clerk supplies them.
        self.clerk = clerk
        self.branch = ""

    def moment(self, day: float) -> datetime:
        return self.start + timedelta(days=day)

    def git(self, *args: str, who: Person | None = None, day: float = 0.0) -> str:
        return run_git(list(args), cwd=self.work, who=who or self.clerk, when=self.moment(day))

    # Files

    def copy(self, source: str, dest: str | None = None) -> None:
        target = self.work / (dest or source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.template / source, target)

    def write(self, path: str, text: str) -> None:
        target = self.work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def append(self, path: str, text: str) -> None:
        self.write(path, self.read(path) + text)

    def replace(self, path: str, old: str, new: str) -> None:
        text = self.read(path)
        # An edit that silently matches nothing (or too much) would corrupt the story.
        if text.count(old) != 1:
            raise ValueError(f"{path}: expected exactly one {old!r}, found {text.count(old)}")
        self.write(path, text.replace(old, new))

    def read(self, path: str) -> str:
        return (self.work / path).read_text(encoding="utf-8")

    # History

    def start_on(self, branch: str) -> None:
        """Make the first commit of the empty clone go to `branch`."""
        self.git("symbolic-ref", "HEAD", f"refs/heads/{branch}")
        self.branch = branch

    def switch(self, branch: str, *, create_from: str | None = None) -> None:
        if create_from is None:
            self.git("checkout", "-q", branch)
        else:
            self.git("checkout", "-q", "-b", branch, create_from)
        self.branch = branch

    def commit(self, day: float, who: Person, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, who=who, day=day)

    def merge(self, day: float, who: Person, branch: str) -> None:
        """A reviewed merge: always a merge commit, with git's usual message."""
        message = f"Merge branch '{branch}' into {self.branch}"
        self.git("merge", "-q", "--no-ff", "-m", message, branch, who=who, day=day)

    def fast_forward(self, branch: str) -> None:
        self.git("merge", "-q", "--ff-only", branch)

    def tag(self, day: float, who: Person, name: str, message: str) -> None:
        self.git("tag", "-a", name, "-m", message, who=who, day=day)
