"""The git adapter: the only module that imports GitPython.

ewsdash keeps one bare cache clone per governed repository under
settings.EWSDASH_CLONES_DIR. Its refs/heads/* and refs/tags/* mirror the origin
as of the last fetch; ewsdash never creates a local branch there. Everything is
computed by git itself (for-each-ref, rev-list), never by walking commits in
Python.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from git import Git
from git.exc import GitCommandError, GitCommandNotFound

# Remote helpers such as ext:: run arbitrary commands; only plain transports pass.
ALLOWED_SCHEMES = ("file", "https", "ssh")
PROTOCOL_CONFIG = [
    "-c", "protocol.allow=never",
    "-c", "protocol.file.allow=always",
    "-c", "protocol.https.allow=always",
    "-c", "protocol.ssh.allow=always",
]
GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "/bin/true",
    "SSH_ASKPASS": "/bin/true",
    "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=20",
    "LC_ALL": "C",
}
FIELD = "\x00"
RECORD = "\x1e"


class GitError(Exception):
    """A git operation failed; the message is git's own, trimmed."""


class OriginError(ValueError):
    """An origin that ewsdash refuses to clone."""


def check_origin(origin: str) -> str:
    """Accept a local path or a file://, https:// or ssh:// URL; refuse anything else."""
    origin = origin.strip()
    if not origin:
        raise OriginError("The origin is empty.")
    if origin.startswith("-"):
        raise OriginError(f"The origin {origin!r} looks like a command-line option; refused.")
    if any(ord(char) < 32 for char in origin):
        raise OriginError("The origin contains control characters; refused.")
    if "::" in origin:
        raise OriginError(
            f"The origin {origin!r} names a git remote helper; only a local path or a "
            "file://, https:// or ssh:// URL is allowed."
        )
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", origin):
        scheme = urlsplit(origin).scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise OriginError(
                f"The origin scheme {scheme}:// is not allowed; use a local path or a "
                "file://, https:// or ssh:// URL."
            )
        if scheme != "file" and not urlsplit(origin).hostname:
            raise OriginError(f"The origin {origin!r} has no host.")
        return origin
    if re.match(r"^[^/]+:", origin):
        # scp-like "host:path" is ambiguous with a path containing a colon.
        raise OriginError(
            f"The origin {origin!r} is neither a path nor a URL; write ssh://host/path."
        )
    path = Path(origin).expanduser()
    if not path.is_absolute():
        raise OriginError(f"The origin path {origin!r} must be absolute.")
    if not path.exists():
        raise OriginError(f"The origin path {origin} does not exist.")
    return str(path)


def _decode(data: bytes) -> str:
    # Commit messages may hold invalid UTF-8; show it plainly, never crash.
    return data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class BranchHead:
    name: str
    head: str
    author_name: str
    author_email: str
    committed_at: datetime | None
    subject: str


class GitRepo:
    """One bare cache clone, driven through git's own commands."""

    def __init__(self, path: Path, *, timeout: int = 600) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._git = Git(str(self.path))

    def run(self, *args: str, input_text: str | None = None) -> str:
        env = {**GIT_ENV, "GIT_DIR": str(self.path)}
        try:
            out = self._git.execute(
                ["git", *args],
                env=env,
                stdout_as_string=False,
                kill_after_timeout=self.timeout,
                istream=None,
                with_extended_output=False,
            )
        except GitCommandError as error:
            raise GitError(_error_text(error)) from None
        except GitCommandNotFound:
            raise GitError("git is not installed on this machine") from None
        return _decode(out) if isinstance(out, bytes) else str(out)

    # -- origin -----------------------------------------------------------------

    def ls_remote_digest(self) -> str:
        """SHA-256 of the origin's branch and tag listing: equal means nothing moved."""
        listing = self.run(*PROTOCOL_CONFIG, "ls-remote", "--heads", "--tags", "origin")
        return hashlib.sha256(listing.encode()).hexdigest()

    def fetch(self) -> None:
        self.run(
            *PROTOCOL_CONFIG, "fetch", "--quiet", "--prune", "--prune-tags", "--force",
            "--no-write-fetch-head", "origin",
            "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*",
        )

    # -- reading ----------------------------------------------------------------

    def branches(self) -> list[BranchHead]:
        fields = [
            "%(refname:lstrip=2)", "%(objectname)", "%(authorname)", "%(authoremail:trim)",
            "%(committerdate:unix)", "%(contents:subject)",
        ]
        out = self.run("for-each-ref", f"--format={'%00'.join(fields)}%1e", "refs/heads/")
        heads = []
        for record in out.split(RECORD):
            record = record.strip("\n")
            if not record:
                continue
            name, head, author, email, stamp, subject = record.split(FIELD)
            heads.append(
                BranchHead(
                    name=name,
                    head=head,
                    author_name=author,
                    author_email=email,
                    committed_at=datetime.fromtimestamp(int(stamp), UTC) if stamp else None,
                    subject=subject,
                )
            )
        return heads

    def divergence(self, base: str, other: str) -> tuple[int, int]:
        """(ahead, behind): commits `other` has that `base` lacks, and the reverse."""
        out = self.run("rev-list", "--left-right", "--count", f"{base}...{other}")
        behind, ahead = out.split()
        return int(ahead), int(behind)

    def has_commits(self) -> bool:
        return bool(self.run("for-each-ref", "--count=1", "--format=%(objectname)").strip())


def _error_text(error: GitCommandError) -> str:
    stderr = error.stderr
    text = _decode(stderr) if isinstance(stderr, bytes) else str(stderr or "")
    text = text.strip().removeprefix("stderr:").strip().strip("'").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-20:]) or f"git exited with status {error.status}"


def clone_bare(origin: str, dest: Path, *, timeout: int = 600) -> GitRepo:
    """Make a cache clone of `origin` at `dest`, atomically: on failure nothing is left.

    The clone is built in a temporary folder beside `dest` and renamed into place
    only when the fetch succeeded.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        repo = GitRepo(scratch, timeout=timeout)
        Git().execute(["git", "init", "--quiet", "--bare", str(scratch)], env=GIT_ENV)
        repo.run("config", "remote.origin.url", origin)
        repo.run("config", "gc.auto", "0")
        repo.fetch()
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(scratch, dest)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return GitRepo(dest, timeout=timeout)


@contextmanager
def clone_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on one cache clone, across processes on this machine."""
    locks = path.parent / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{path.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
