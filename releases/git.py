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
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from git import Git
from git.exc import GitCommandError, GitCommandNotFound

from releases.redaction import redact_credentials

# Remote helpers such as ext:: run arbitrary commands; only plain transports pass.
ALLOWED_SCHEMES = ("file", "https", "ssh")
PROTOCOL_CONFIG = [
    "-c",
    "protocol.allow=never",
    "-c",
    "protocol.file.allow=always",
    "-c",
    "protocol.https.allow=always",
    "-c",
    "protocol.ssh.allow=always",
]
GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "/bin/true",
    "SSH_ASKPASS": "/bin/true",
    "GIT_SSH_COMMAND": "ssh -o BatchMode=yes -o ConnectTimeout=20",
    "LC_ALL": "C",
}
ATTESTATION_REFS = "refs/ewsdash/attestations/"
FIELD = "\x00"
RECORD = "\x1e"


class GitError(Exception):
    """A git operation failed; the message is git's own, trimmed, credentials redacted."""

    def __init__(self, message: str) -> None:
        super().__init__(redact_credentials(message))


class OriginError(ValueError):
    """An origin that ewsdash refuses to clone (the message never shows its password)."""

    def __init__(self, message: str) -> None:
        super().__init__(redact_credentials(message))


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


@dataclass(frozen=True)
class TagRef:
    """One tag at the origin, peeled to the object it finally names."""

    name: str
    object: str  # the tag object (annotated) or the named object itself (lightweight)
    target: str  # fully peeled: through a tag that points at a tag, too
    target_type: str  # "commit" for a possible release; "tree", "blob", or "" if missing
    annotated: bool
    tagger_name: str  # the tagger, or the commit's committer for a lightweight tag
    tagger_email: str
    tagged_at: datetime | None


@dataclass(frozen=True)
class LogCommit:
    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    committed_at: datetime | None
    subject: str
    body: str
    mark: str = ""  # git log's %m: "+" or "=" with --cherry-mark, ">" for a merge

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


class GitRepo:
    """One bare cache clone, driven through git's own commands."""

    def __init__(self, path: Path, *, timeout: int = 600) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._git = Git(str(self.path))

    def run(self, *args: str, input_text: str | None = None) -> str:
        env = {**GIT_ENV, "GIT_DIR": str(self.path)}
        # GitPython hands `istream` to Popen as stdin, which needs a real file.
        stdin = None
        if input_text is not None:
            stdin = tempfile.TemporaryFile()
            stdin.write(input_text.encode())
            stdin.seek(0)
        try:
            out = self._git.execute(
                ["git", *args],
                env=env,
                stdout_as_string=False,
                kill_after_timeout=self.timeout,
                istream=stdin,
                with_extended_output=False,
            )
        except GitCommandError as error:
            raise GitError(_error_text(error)) from None
        except GitCommandNotFound:
            raise GitError("git is not installed on this machine") from None
        finally:
            if stdin is not None:
                stdin.close()
        return _decode(out) if isinstance(out, bytes) else str(out)

    # -- origin -----------------------------------------------------------------

    def ls_remote_digest(self) -> str:
        """SHA-256 of the origin's branch and tag listing: equal means nothing moved."""
        listing = self.run(*PROTOCOL_CONFIG, "ls-remote", "--heads", "--tags", "origin")
        return hashlib.sha256(listing.encode()).hexdigest()

    def fetch(self) -> None:
        self.run(
            *PROTOCOL_CONFIG,
            "fetch",
            "--quiet",
            "--prune",
            "--prune-tags",
            "--force",
            "--no-write-fetch-head",
            "origin",
            "+refs/heads/*:refs/heads/*",
            "+refs/tags/*:refs/tags/*",
            # Release attestations (releases.attestations) live beside the tags.
            f"+{ATTESTATION_REFS}*:{ATTESTATION_REFS}*",
        )

    # -- reading ----------------------------------------------------------------

    def refs(self, prefix: str, fields: list[str]) -> list[list[str]]:
        """One `for-each-ref` over `prefix`: a row of the `fields` (format atoms) per ref."""
        out = self.run("for-each-ref", f"--format={'%00'.join(fields)}%1e", prefix)
        return [
            _padded(record.strip("\n").split(FIELD), len(fields))
            for record in out.split(RECORD)
            if record.strip("\n")
        ]

    def branches(self) -> list[BranchHead]:
        fields = [
            "%(refname:lstrip=2)",
            "%(objectname)",
            "%(authorname)",
            "%(authoremail:trim)",
            "%(committerdate:unix)",
            "%(contents:subject)",
        ]
        heads = []
        for name, head, author, email, stamp, subject in self.refs("refs/heads/", fields):
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

    def divergences(
        self, pairs: list[tuple[str, str]], *, workers: int = 4
    ) -> list[tuple[int, int]]:
        """`divergence` for many (base, other) pairs, a few git processes at a time.

        Each count is its own `rev-list`, which mostly waits on git; running a few at
        once keeps every core busy on a repository with hundreds of branches.
        """
        if len(pairs) < 2 or workers < 2:
            return [self.divergence(base, other) for base, other in pairs]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda pair: self.divergence(*pair), pairs))

    def contained_without_ancestry(
        self, base: str, head: str, *, ahead: int, patch_limit: int = 200
    ) -> str:
        """How `base` holds `head`'s changes although `head` is not its ancestor, or "".

        "tree": merging `head` into `base` would change nothing (`merge-tree` gives
        `base`'s own tree), as after a squash merge; "patch-id": every commit of `head`
        has an equal patch in `base` (`git cherry`), as after cherry-picks or a rebase,
        tried only when `head` has at most `patch_limit` commits of its own (`ahead`).
        """
        status, out, _ = _run_with(self, ["merge-tree", "--write-tree", base, head])
        if status == 0 and out.split("\n", 1)[0].strip() == tree_of(self, base):
            return "tree"
        if ahead > patch_limit or patch_limit <= 0:
            return ""
        marks = [line[:1] for line in self.run("cherry", base, head).splitlines() if line]
        return "patch-id" if marks and all(mark == "-" for mark in marks) else ""

    def has_commits(self) -> bool:
        return bool(self.run("for-each-ref", "--count=1", "--format=%(objectname)").strip())

    # -- releases: tags, the production line, changelogs, back-ports -----------------
    # Each method is one git invocation (tags() two at most), whatever the number of
    # tags or commits, so a sync costs the same few calls on a repository of any size.

    def tags(self) -> list[TagRef]:
        """Every tag, peeled; a second call (cat-file) only for tags of tags or non-commits."""
        fields = [
            "%(refname:lstrip=2)",
            "%(objectname)",
            "%(objecttype)",
            "%(*objectname)",
            "%(*objecttype)",
            "%(taggername)",
            "%(taggeremail:trim)",
            "%(committername)",
            "%(committeremail:trim)",
            "%(creatordate:unix)",
        ]
        rows = self.refs("refs/tags/", fields)
        # `*objectname` peels one level only: a tag of a tag, or a tag of a tree or
        # blob, is peeled fully by cat-file in one batch.
        unpeeled = [
            row[1]
            for row in rows
            if not (row[2] == "commit" or (row[2] == "tag" and row[4] == "commit"))
        ]
        peeled = self._peel(unpeeled) if unpeeled else {}
        tags = []
        for (
            name,
            obj,
            kind,
            inner,
            inner_kind,
            tagger,
            tagger_email,
            committer,
            committer_email,
            stamp,
        ) in rows:
            if kind == "commit":
                target, target_type = obj, "commit"
            elif kind == "tag" and inner_kind == "commit":
                target, target_type = inner, "commit"
            else:
                target, target_type = peeled.get(obj, ("", ""))
            tags.append(
                TagRef(
                    name=name,
                    object=obj,
                    target=target,
                    target_type=target_type,
                    annotated=kind == "tag",
                    tagger_name=tagger or committer,
                    tagger_email=tagger_email or committer_email,
                    tagged_at=_from_unix(stamp),
                )
            )
        return tags

    def _peel(self, objects: list[str]) -> dict[str, tuple[str, str]]:
        out = self.run(
            "cat-file",
            "--batch-check=%(objectname) %(objecttype)",
            input_text="".join(f"{obj}^{{}}\n" for obj in objects),
        )
        peeled = {}
        for obj, line in zip(objects, out.splitlines(), strict=False):
            parts = line.split()
            if len(parts) == 2 and parts[1] != "missing":
                peeled[obj] = (parts[0], parts[1])
        return peeled

    def tags_merged_into(self, branch: str) -> set[str]:
        """Names of the tags whose commit is reachable from `branch`."""
        out = self.run(
            "for-each-ref",
            f"--merged=refs/heads/{branch}",
            "--format=%(refname:lstrip=2)",
            "refs/tags/",
        )
        return {line for line in out.splitlines() if line}

    def count_commits(self, base: str, head: str) -> int:
        """Commits reachable from `head` but not from `base`."""
        return int(self.run("rev-list", "--count", f"{base}..{head}").strip() or 0)

    def log(self, *revisions: str, no_merges: bool = False) -> list[LogCommit]:
        """The commits `git log` lists for `revisions` (newest first), bodies included."""
        args = ["log", "-z", f"--format={LOG_FORMAT}"]
        if no_merges:
            args.append("--no-merges")
        return _parse_log(self.run(*args, *revisions, "--"))

    def cherry_marked(self, development: str, production: str) -> list[LogCommit]:
        """Commits production has and development lacks, merges included.

        Non-merges are marked "=" when development has a commit with an equal patch
        id among the commits production lacks, "+" otherwise.
        """
        return _parse_log(
            self.run(
                "log",
                "-z",
                "--cherry-mark",
                "--right-only",
                f"--format=%m%x1f{LOG_FORMAT}",
                f"refs/heads/{development}...refs/heads/{production}",
                "--",
            ),
            marked=True,
        )

    def patch_ids_of(self, commits: list[str]) -> dict[str, str]:
        """Commit -> `git patch-id --stable` of its whole patch ("" for a commit with none,
        or a merge). One `git log -p | git patch-id` pipeline: the patches (tens of MB on a
        long history) never pass through Python; the commits go in on stdin."""
        if not commits:
            return {}
        if self.is_partial():
            self.prefetch_changed_blobs(commits)
        env = {**os.environ, **GIT_ENV, "GIT_DIR": str(self.path)}
        log_args = ["log", "-p", "--no-merges", "--full-diff", "--no-color", "--no-ext-diff"]
        with tempfile.TemporaryFile() as errors:
            log = subprocess.Popen(
                ["git", *log_args, "--format=commit %H", "--no-walk=unsorted", "--stdin"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
            )
            ids = subprocess.Popen(
                ["git", "patch-id", "--stable"],
                stdin=log.stdout,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=env,
            )
            assert log.stdin is not None and log.stdout is not None
            log.stdout.close()  # patch-id holds it now
            feeder = threading.Thread(target=_feed, args=(log.stdin, commits), daemon=True)
            feeder.start()
            try:
                out, _ = ids.communicate(timeout=self.timeout)
                log.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                log.kill()
                ids.kill()
                raise GitError(f"git patch-id took longer than {self.timeout} s") from None
            feeder.join()
            if log.returncode or ids.returncode:
                errors.seek(0)
                raise GitError(_decode(errors.read()).strip()[:500] or "git patch-id failed")
        found = {}
        for line in _decode(out).splitlines():
            parts = line.split()
            if len(parts) == 2:
                found[parts[1]] = parts[0]
        return {sha: found.get(sha, "") for sha in commits}

    def is_partial(self) -> bool:
        """Whether this is a partial clone (file contents fetched when first needed)."""
        status, out, _ = _run_with(self, ["config", "--get", "extensions.partialClone"])
        return status == 0 and bool(out.strip())

    def prefetch_changed_blobs(self, commits: list[str]) -> None:
        """Fetch, in one request, the contents every commit's diff needs: left to itself,
        `git log -p` in a partial clone fetches commit by commit (one round trip each)."""
        listing = self.run(
            "diff-tree",
            "-r",
            "--root",
            "--no-commit-id",
            "--stdin",
            input_text="\n".join(commits) + "\n",
        )
        wanted: set[str] = set()
        for line in listing.splitlines():
            fields = line.split()
            if line.startswith(":") and len(fields) >= 4:
                wanted.update(oid for oid in fields[2:4] if oid.strip("0"))
        if wanted:
            self.run(
                *PROTOCOL_CONFIG,
                "-c",
                "fetch.negotiationAlgorithm=noop",
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--recurse-submodules=no",
                "--filter=blob:none",
                "--stdin",
                "origin",
                input_text="\n".join(sorted(wanted)) + "\n",
            )

    def cherry_pick_trailers(self, branch: str) -> list[LogCommit]:
        """Commits on `branch` whose message names a cherry-picked commit (git filters)."""
        return _parse_log(
            self.run(
                "log",
                "-z",
                "--fixed-strings",
                "--grep=(cherry picked from commit ",
                f"--format={LOG_FORMAT}",
                f"refs/heads/{branch}",
                "--",
            )
        )


# Fields of one commit in `git log -z` output (commits are NUL-separated). The body
# comes last so that whatever it contains cannot shift the other fields.
SEP = "\x1f"
LOG_FORMAT = SEP.join(["%H", "%P", "%an", "%ae", "%ct", "%s", "%b"]).replace(SEP, "%x1f")


def _feed(stream: IO[bytes], commits: list[str]) -> None:
    try:
        stream.write("".join(f"{sha}\n" for sha in commits).encode())
    except BrokenPipeError:
        pass  # git stopped reading: its status and stderr say why
    finally:
        try:
            stream.close()
        except BrokenPipeError:
            pass


def _padded(parts: list[str], size: int) -> list[str]:
    return (parts + [""] * size)[:size]


def _from_unix(stamp: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(stamp), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _parse_log(out: str, *, marked: bool = False) -> list[LogCommit]:
    commits = []
    size = 8 if marked else 7
    for record in out.split("\x00"):
        record = record.lstrip("\n")
        if not record:
            continue
        parts = _padded(record.split(SEP, size - 1), size)
        mark = parts.pop(0) if marked else ""
        sha, parents, author, email, stamp, subject, body = parts
        commits.append(
            LogCommit(
                sha=sha,
                parents=tuple(parents.split()),
                author_name=author,
                author_email=email,
                committed_at=_from_unix(stamp),
                subject=subject,
                body=body.rstrip("\n"),
                mark=mark,
            )
        )
    return commits


def _error_text(error: GitCommandError) -> str:
    stderr = error.stderr
    text = _decode(stderr) if isinstance(stderr, bytes) else str(stderr or "")
    text = text.strip().removeprefix("stderr:").strip().strip("'").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-20:]) or f"git exited with status {error.status}"


def clone_bare(origin: str, dest: Path, *, timeout: int = 600, partial: bool = False) -> GitRepo:
    """Make a cache clone of `origin` at `dest`, atomically: on failure nothing is left.

    The clone is built in a temporary folder beside `dest` and renamed into place
    only when the fetch succeeded. `partial`: a blobless partial clone
    (`--filter=blob:none`): commits and trees now, each file's content fetched from the
    origin the first time git needs it (a diff, a checkout, a file read).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        repo = GitRepo(scratch, timeout=timeout)
        Git().execute(["git", "init", "--quiet", "--bare", str(scratch)], env=GIT_ENV)
        repo.run("config", "remote.origin.url", origin)
        repo.run("config", "gc.auto", "0")
        if partial:
            # What `git clone --filter=blob:none` records: later fetches keep the filter,
            # and a missing blob is fetched from the promisor remote when needed.
            repo.run("config", "core.repositoryformatversion", "1")
            repo.run("config", "extensions.partialClone", "origin")
            repo.run("config", "remote.origin.promisor", "true")
            repo.run("config", "remote.origin.partialclonefilter", "blob:none")
        repo.fetch()
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(scratch, dest)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return GitRepo(dest, timeout=timeout)


class CloneBusy(GitError):
    """Another process holds the clone (a worker fetching or pushing) past the wait."""


@contextmanager
def clone_lock(path: Path, *, wait: float | None = None) -> Iterator[None]:
    """An exclusive lock on one cache clone, across processes on this machine.

    `wait`: give up after that many seconds (CloneBusy) rather than wait for whoever holds
    it, for a page that must not wait on a worker's fetch from a slow origin.
    """
    locks = path.parent / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{path.name}.lock", "w") as handle:
        if wait is None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise CloneBusy(
                            "the repository's clone is busy (a worker is talking to the "
                            "origin); try again in a moment"
                        ) from None
                    time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- reading files at a commit, throw-away worktrees (staging validation, issue 5) --------
#
# Validation reads the manifest at a candidate's commit and runs each check in a fresh
# export of its tree (`export_tree`: no .git, nothing linked to the clone). Callers hold
# `clone_lock` around `export_tree`, `worktree_add` and `worktree_remove`.

SHA_RE = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def resolve_commit(repo: GitRepo, ref: str) -> str | None:
    """The commit `ref` (a sha, branch or tag) names, or None when the clone lacks it."""
    if not ref or ref.startswith("-") or any(ord(char) < 33 for char in ref):
        return None
    try:
        out = repo.run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    except GitError:
        return None
    sha = out.strip()
    return sha if SHA_RE.match(sha) else None


def read_file_at(repo: GitRepo, commit: str, path: str) -> bytes | None:
    """The bytes of `path` in `commit`'s tree, or None when no such file is there."""
    env = {**GIT_ENV, "GIT_DIR": str(repo.path)}
    spec = f"{commit}:{path}"
    try:
        kind = repo._git.execute(["git", "cat-file", "-t", spec], env=env)
    except GitCommandError:
        return None
    if str(kind).strip() != "blob":
        return None
    try:
        out = repo._git.execute(
            ["git", "cat-file", "blob", spec],
            env=env,
            stdout_as_string=False,
            strip_newline_in_stdout=False,
            kill_after_timeout=repo.timeout,
        )
    except GitCommandError as error:
        raise GitError(_error_text(error)) from None
    return out if isinstance(out, bytes) else str(out).encode()


def export_tree(repo: GitRepo, commit: str, dest: Path) -> None:
    """Write `commit`'s files into the new folder `dest`: a plain copy, no `.git`, no remote.

    Through a private index (`read-tree` then `checkout-index`), so the clone gains no
    worktree record and every file is exported (`export-ignore` does not apply, unlike
    `git archive`). The caller holds `clone_lock`.
    """
    dest.mkdir(parents=True, exist_ok=False)
    index = dest.parent / f".{dest.name}.index"
    env = {
        **GIT_ENV,
        "GIT_DIR": str(repo.path),
        "GIT_INDEX_FILE": str(index),
        "GIT_WORK_TREE": str(dest),
    }
    try:
        for args in (
            ["read-tree", "--end-of-options", commit],
            ["checkout-index", "--all", "--force"],
        ):
            repo._git.execute(["git", *args], env=env, kill_after_timeout=repo.timeout)
    except GitCommandError as error:
        raise GitError(_error_text(error)) from None
    finally:
        index.unlink(missing_ok=True)


def worktree_add(repo: GitRepo, path: Path, commit: str) -> None:
    """Check `commit` out, detached, into the new folder `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    repo.run("worktree", "add", "--quiet", "--detach", str(path), commit)


def worktree_remove(repo: GitRepo, path: Path) -> None:
    """Remove a worktree and git's record of it, whatever state the folder is in."""
    try:
        repo.run("worktree", "remove", "--force", "--force", str(path))
    except GitError:
        pass  # already gone, or never registered: the folder and prune below cover it
    shutil.rmtree(path, ignore_errors=True)
    repo.run("worktree", "prune")


# -- writing: promotion, rollback, hotfix, back-merge (issue 4) ----------------------------
#
# Nothing here moves a local ref. Merge commits are built with `merge-tree
# --write-tree` and `commit-tree`, tags with `mktag`; the new objects are pushed
# by id with `push --atomic`, and the local mirror only moves on the next fetch.
# A failure therefore leaves the clone and the origin exactly as they were.


@dataclass(frozen=True)
class Identity:
    name: str
    email: str


class MergeConflict(GitError):
    def __init__(self, files: list[str], message: str) -> None:
        super().__init__(message)
        self.files = files


def _run_with(
    repo: GitRepo,
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    input_text: str | None = None,
) -> tuple[int, str, str]:
    """Run git and return (status, stdout, stderr) without raising on a non-zero status."""
    stdin = None
    if input_text is not None:
        stdin = tempfile.TemporaryFile()
        stdin.write(input_text.encode())
        stdin.seek(0)
    try:
        status, out, err = repo._git.execute(
            ["git", *args],
            env={**GIT_ENV, "GIT_DIR": str(repo.path), **(env or {})},
            stdout_as_string=False,
            kill_after_timeout=repo.timeout,
            istream=stdin,
            with_extended_output=True,
            with_exceptions=False,
        )
    except GitCommandNotFound:
        raise GitError("git is not installed on this machine") from None
    finally:
        if stdin is not None:
            stdin.close()
    as_text = [_decode(x) if isinstance(x, bytes) else str(x or "") for x in (out, err)]
    return int(status or 0), as_text[0], as_text[1]


def _identity_env(author: Identity, committer: Identity, when: datetime) -> dict[str, str]:
    stamp = f"{int(when.timestamp())} +0000"
    return {
        "GIT_AUTHOR_NAME": author.name,
        "GIT_AUTHOR_EMAIL": author.email,
        "GIT_AUTHOR_DATE": stamp,
        "GIT_COMMITTER_NAME": committer.name,
        "GIT_COMMITTER_EMAIL": committer.email,
        "GIT_COMMITTER_DATE": stamp,
    }


def is_ancestor(repo: GitRepo, ancestor: str, descendant: str) -> bool:
    """Whether `descendant` contains `ancestor` (a commit contains itself)."""
    return repo.run("rev-list", "--count", f"{descendant}..{ancestor}").strip() == "0"


def lacks_only_release_merges(repo: GitRepo, base: str, tip: str, *, limit: int = 50) -> bool:
    """Whether every commit `tip` has that `base` lacks is a merge commit whose tree equals
    the tree of one of its parents that `base` contains. Such a commit (a promotion's
    `--no-ff` merge of a commit development already has) brings no content `base` lacks, so
    `base` is in sync with `tip` but for the merge commits themselves. False when `base`
    lacks nothing, lacks a commit of any other kind, or lacks more than `limit` commits.
    Two git calls."""
    out = repo.run("rev-list", "--parents", f"{base}..{tip}")
    rows = [line.split() for line in out.splitlines()]
    if not rows or len(rows) > limit or any(len(row) < 3 for row in rows):
        return False
    missing = {row[0] for row in rows}
    commits = sorted({sha for row in rows for sha in row})
    tree_ids = repo.run("rev-parse", *(f"{c}^{{tree}}" for c in commits)).split()
    trees = dict(zip(commits, tree_ids, strict=True))
    # A parent reachable from `tip` but not in base..tip is one `base` contains.
    return all(
        any(trees[parent] == trees[commit] and parent not in missing for parent in parents)
        for commit, *parents in rows
    )


def ref_head(repo: GitRepo, ref: str) -> str | None:
    """The commit a local ref points at, or None."""
    status, out, _ = _run_with(repo, ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])
    return out.strip() if status == 0 and out.strip() else None


def ref_object(repo: GitRepo, ref: str) -> str | None:
    """The object a local ref points at, unpeeled (an annotated tag's own id), or None."""
    status, out, _ = _run_with(repo, ["rev-parse", "--verify", "--quiet", ref])
    return out.strip() if status == 0 and out.strip() else None


def people_in_range(repo: GitRepo, base: str, tip: str, *, clean_merger: str = "") -> set[str]:
    """Lower-cased author and committer emails of the commits in base..tip.

    Merge commits committed by `clean_merger` (ewsdash itself, which only ever pushes
    conflict-free merges) carry no change of their own, so they make nobody an author.
    """
    out = repo.run("log", "--format=%P%x00%ae%x00%ce", f"{base}..{tip}")
    people = set()
    for line in out.splitlines():
        parents, author, committer = (line.split("\0") + ["", "", ""])[:3]
        if len(parents.split()) > 1 and clean_merger and committer.lower() == clean_merger:
            continue
        people |= {email.strip().lower() for email in (author, committer) if email.strip()}
    return people


def merge_commit(
    repo: GitRepo,
    *,
    base: str,
    other: str,
    message: str,
    author: Identity,
    committer: Identity,
    when: datetime,
) -> str:
    """A two-parent merge of `other` into `base` (what `merge --no-ff` makes), or MergeConflict."""
    status, out, err = _run_with(
        repo, ["merge-tree", "--write-tree", "--name-only", "--no-messages", base, other]
    )
    lines = out.splitlines()
    if status == 1:
        files = [line for line in lines[1:] if line.strip()]
        raise MergeConflict(files, "Merge conflict in: " + ", ".join(files))
    if status != 0 or not lines:
        raise GitError(err.strip() or f"git merge-tree exited with status {status}")
    tree = lines[0].strip()
    return commit_tree(
        repo,
        tree=tree,
        parents=[base, other],
        message=message,
        author=author,
        committer=committer,
        when=when,
    )


def commit_tree(
    repo: GitRepo,
    *,
    tree: str,
    parents: list[str],
    message: str,
    author: Identity,
    committer: Identity,
    when: datetime,
) -> str:
    args = ["commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    status, out, err = _run_with(
        repo, args, env=_identity_env(author, committer, when), input_text=message
    )
    if status != 0:
        raise GitError(err.strip() or "git commit-tree failed")
    return out.strip()


def tree_of(repo: GitRepo, commit: str) -> str:
    return repo.run("rev-parse", f"{commit}^{{tree}}").strip()


def annotated_tag(
    repo: GitRepo,
    *,
    name: str,
    target: str,
    message: str,
    tagger: Identity,
    when: datetime,
    sign: Callable[[bytes], bytes] | None = None,
) -> str:
    """An annotated tag object for `target`, written without creating a ref.

    `sign` (bytes -> armored SSH signature in the "git" namespace) makes it a signed tag,
    as `git tag -s` with gpg.format=ssh writes it: the signature follows the message.
    """
    repo.run("check-ref-format", f"refs/tags/{name}")
    body = (
        f"object {target}\ntype commit\ntag {name}\n"
        f"tagger {tagger.name} <{tagger.email}> {int(when.timestamp())} +0000\n\n"
        f"{message.rstrip()}\n"
    )
    if sign is not None:
        body += sign(body.encode()).decode()
    return repo.run("mktag", input_text=body).strip()


def blob_write(repo: GitRepo, text: str) -> str:
    """Store `text` as a blob; its id."""
    return repo.run("hash-object", "-w", "--stdin", input_text=text).strip()


def tree_write(repo: GitRepo, files: dict[str, str]) -> str:
    """A tree of regular files (name -> blob id) at its root; its id."""
    entries = "".join(f"100644 blob {blob}\t{name}\n" for name, blob in sorted(files.items()))
    return repo.run("mktree", input_text=entries).strip()


def blob_id(repo: GitRepo, spec: str) -> str | None:
    """The blob id `<rev>:<path>` names, or None."""
    status, out, _ = _run_with(repo, ["rev-parse", "--verify", "--quiet", spec])
    return out.strip() if status == 0 and out.strip() else None


def push_atomic(repo: GitRepo, updates: dict[str, str]) -> None:
    """Push object ids to refs at the origin, all or nothing, never forced."""
    specs = [f"{source}:{ref}" for ref, source in updates.items()]
    status, out, err = _run_with(
        repo, [*PROTOCOL_CONFIG, "push", "--atomic", "--porcelain", "origin", *specs]
    )
    if status != 0:
        lines = [line for line in (err + "\n" + out).splitlines() if line.strip()]
        raise GitError("The origin refused the push:\n" + "\n".join(lines[-15:]))


def changed_paths(repo: GitRepo, base: str, tip: str, *, under: str = "") -> list[str]:
    args = ["diff", "--name-only", "--no-renames", base, tip]
    if under:
        args += ["--", under]
    return [line for line in repo.run(*args).splitlines() if line.strip()]


def tree_blobs(repo: GitRepo, commit: str, *folders: str) -> list[tuple[str, str]]:
    """(path, blob id) of every file under `folders` in `commit`'s tree (one ls-tree).

    Paths are read NUL-separated, so no name is quoted or mangled.
    """
    out = repo.run("ls-tree", "-r", "-z", "--full-tree", commit, "--", *folders)
    found = []
    for record in out.split("\0"):
        meta, _, path = record.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == "blob":
            found.append((path, parts[2]))
    return found


def read_blobs(repo: GitRepo, blobs: list[str]) -> dict[str, bytes]:
    """The bytes of each blob id, read by one `git cat-file --batch` process.

    An id the clone lacks is left out of the answer.
    """
    wanted = [blob for blob in dict.fromkeys(blobs) if SHA_RE.match(blob)]
    if not wanted:
        return {}
    env = {**GIT_ENV, "GIT_DIR": str(repo.path)}
    with tempfile.TemporaryFile() as stdin:
        stdin.write("".join(f"{blob}\n" for blob in wanted).encode())
        stdin.seek(0)
        try:
            out = repo._git.execute(
                ["git", "cat-file", "--batch"],
                env=env,
                istream=stdin,
                stdout_as_string=False,
                strip_newline_in_stdout=False,
                kill_after_timeout=repo.timeout,
            )
        except GitCommandError as error:
            raise GitError(_error_text(error)) from None
    data = out if isinstance(out, bytes) else str(out).encode()
    found: dict[str, bytes] = {}
    at = 0
    for blob in wanted:
        end = data.index(b"\n", at)
        header = data[at:end].split()
        at = end + 1
        if len(header) != 3:  # "<id> missing"
            continue
        size = int(header[2])
        if header[1] == b"blob":
            found[blob] = data[at : at + size]
        at += size + 1  # the content, then a newline
    return found


@dataclass(frozen=True)
class Signers:
    """Whose signatures count, checked offline: SSH keys in ssh-keygen's allowed-signers
    format, and GPG public keys (ASCII-armored, any number, imported into a keyring made
    for the check)."""

    ssh: str = ""
    gpg: str = ""


@contextmanager
def _verifying(signers: Signers) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Git's `-c` options and environment for verify-commit/verify-tag against `signers`,
    in a scratch folder removed afterwards. Unusable GPG keys raise GitError."""
    with tempfile.TemporaryDirectory(prefix="ewsdash-signers-") as scratch:
        allowed = Path(scratch) / "allowed_signers"
        allowed.write_text(signers.ssh.strip() + "\n")
        config = ["-c", f"gpg.ssh.allowedSignersFile={allowed}"]
        home = Path(scratch) / "gnupg"
        home.mkdir(mode=0o700)
        if signers.gpg.strip():
            imported = subprocess.run(
                ["gpg", "--homedir", str(home), "--batch", "--quiet", "--import"],
                input=signers.gpg.encode(),
                capture_output=True,
                timeout=60,
                env={"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            )
            if imported.returncode != 0:
                error = imported.stderr.decode(errors="replace").strip()[:300]
                raise GitError(f"the configured GPG keys cannot be imported: {error}")
        # An empty keyring of our own even without GPG keys: never the host's.
        yield config, {"GNUPGHOME": str(home)}


def unverified_commits(repo: GitRepo, base: str, tip: str, *, signers: Signers) -> list[str]:
    """Commits in base..tip (merges aside) whose signature `git verify-commit` does not
    accept from `signers` (SSH or GPG; checked offline)."""
    shas = repo.run("rev-list", "--no-merges", f"{base}..{tip}").split()
    if not shas:
        return []
    with _verifying(signers) as (config, env):
        return [
            sha for sha in shas if _run_with(repo, [*config, "verify-commit", sha], env=env)[0] != 0
        ]


def tag_signatures(repo: GitRepo, tags: list[str], *, signers: Signers) -> dict[str, str]:
    """Tag -> "" when `git verify-tag` accepts its signature from `signers`, else why not
    ("not signed", "not an annotated tag", or "not signed by an allowed signer: ...")."""
    if not tags:
        return {}
    found: dict[str, str] = {}
    kinds = dict(
        line.split(" ", 1)[::-1]
        for line in repo.run(
            "for-each-ref", "--format=%(objecttype) %(refname:lstrip=2)", "refs/tags/"
        ).splitlines()
        if " " in line
    )
    with _verifying(signers) as (config, env):
        for tag in tags:
            if kinds.get(tag) != "tag":
                found[tag] = "not an annotated tag (a lightweight tag carries no signature)"
                continue
            status, _out, err = _run_with(
                repo, [*config, "verify-tag", f"refs/tags/{tag}"], env=env
            )
            if status == 0:
                found[tag] = ""
            elif "no signature found" in err:
                found[tag] = "not signed"
            else:
                last = [line for line in err.strip().splitlines() if line.strip()][-1:]
                found[tag] = "not signed by an allowed signer" + (
                    f": {last[0].strip()[:200]}" if last else ""
                )
    return found
