"""Which models each release carried, and their `deployment_status`, read from git once.

`deployment_statuses_record` reads every release that has no rows yet from the managed
clone and stores one ReleaseModelStatus per model; the pages only read those rows. Run it
after a sync (`manage.py deployments <repository>`; the sync can call it too).

The config is a Python file of the governed repository. It is never imported or executed
(that would run the pipeline's code in ewsdash's process): the status is read from the
line `deployment_status = "<word>"` as text, and an unreadable one is stored as "".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction

from monitoring.models import ReleaseModelStatus
from releases import git
from releases.clones import clone_dir
from releases.models import Release, Repository

CONFIG_RE = re.compile(r"^models/([^/]+)/configs/config_deployment\.py$")
STATUS_RE = re.compile(
    r"""^deployment_status\s*(?::\s*str\s*)?=\s*["']([A-Za-z_-]{1,40})["']""", re.MULTILINE
)


def status_from_config(text: str) -> str:
    """The declared status (lower case), or "" when there is no plain string literal."""
    found = STATUS_RE.search(text)
    return found.group(1).lower() if found else ""


def models_at(repo: git.GitRepo, commit: str) -> dict[str, str]:
    """{model name: status} for the commit's tree (one ls-tree, one read per model)."""
    listing = repo.run("ls-tree", "-r", "--name-only", commit, "--", "models/")
    found: dict[str, str] = {}
    for path in listing.splitlines():
        match = CONFIG_RE.match(path.strip())
        if match:
            data = git.read_file_at(repo, commit, path.strip())
            found[match.group(1)] = status_from_config(
                data.decode("utf-8", errors="replace") if data else ""
            )
    return found


def deployment_statuses_record(*, repository: Repository) -> int:
    """Read the releases not read yet; returns how many releases it recorded.

    A release whose commit is gone from the clone, or that has no models, stays unread
    (it is simply tried again next time).
    """
    path = clone_dir(repository.name)
    if not path.exists():
        return 0
    repo = git.GitRepo(path)
    pending = Release.objects.filter(repository=repository, model_statuses__isnull=True)
    recorded = 0
    for release in pending.only("pk", "commit"):
        try:
            found = models_at(repo, release.commit)
        except git.GitError:
            continue
        if not found:
            continue
        with transaction.atomic():
            ReleaseModelStatus.objects.bulk_create(
                [
                    ReleaseModelStatus(release=release, model=name, status=status)
                    for name, status in sorted(found.items())
                ],
                ignore_conflicts=True,  # a concurrent run recorded the same release
            )
        recorded += 1
    return recorded


@dataclass(frozen=True)
class StatusChange:
    model: str
    before: str | None  # None: not in the earlier release
    after: str | None  # None: removed


def status_changes(before: dict[str, str], after: dict[str, str]) -> list[StatusChange]:
    """Models added, removed, or whose status changed from one release to the next."""
    return [
        StatusChange(name, before.get(name), after.get(name))
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    ]
