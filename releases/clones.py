"""The cache clone of each governed repository, and who ewsdash writes git objects as.

Every machine keeps one bare clone per repository under EWSDASH_CLONES_DIR and rebuilds
it from the origin when it is missing, so any worker on any host can do git work.

Lock order (the one rule that keeps PostgreSQL and the clones from deadlocking):
    git first, the database second. A service takes the clone's file lock
    (`clone_session`), reads or writes git, releases the lock, and only then opens the
    transaction that locks rows. Nothing takes the file lock while it holds a row lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings

from releases import git
from releases.models import Repository


def clone_dir(repository_name: str) -> Path:
    return Path(settings.EWSDASH_CLONES_DIR) / f"{repository_name}.git"


def clone_open(repository: Repository) -> git.GitRepo:
    """The repository's cache clone, rebuilt from the origin when this machine lacks it.

    The caller holds `git.clone_lock(clone_dir(repository.name))`; `clone_session`
    does both.
    """
    path = clone_dir(repository.name)
    if path.exists():
        return git.GitRepo(path, timeout=settings.EWSDASH_GIT_TIMEOUT)
    return git.clone_bare(
        repository.origin,
        path,
        timeout=settings.EWSDASH_GIT_TIMEOUT,
        partial=repository.partial_clone,
    )


# A web request waits at most this long for the clone (a worker may hold it while it
# fetches from a slow origin), then refuses with "try again".
PAGE_CLONE_WAIT = 2.0


@contextmanager
def clone_session(repository: Repository, *, wait: float | None = None) -> Iterator[git.GitRepo]:
    """The clone, under its file lock, for the length of the block (`wait`: at most that
    many seconds for the lock, else git.CloneBusy; a page's read passes it).

    Never enter it inside a transaction that holds row locks (see the module docstring).
    """
    with git.clone_lock(clone_dir(repository.name), wait=wait):
        yield clone_open(repository)


def git_identity() -> git.Identity:
    """ewsdash itself, as committer and tagger of what it writes."""
    return git.Identity(settings.EWSDASH_GIT_NAME, settings.EWSDASH_GIT_EMAIL)


def person_identity(user: Any) -> git.Identity:
    """The person on whose behalf ewsdash writes a commit (its author)."""
    name = user.get_full_name() or user.get_username()
    return git.Identity(name, user.email or f"{user.get_username()}@ewsdash.invalid")
