"""Which models and ensembles each release and branch head carries, read from git once.

`deployment_configs_record` reads every commit that matters and has no snapshot yet:
each release's commit, whoever made it (a tag found by a sync, a promotion or a rollback
by ewsdash), and production's and development's heads. One `ls-tree` per commit and one
`cat-file --batch` for all the config files; each distinct file is parsed once. It runs
on a worker after any sync that changed something (`manage.py deployments NAME` runs it
too); pages only read the stored snapshots.

The configs are Python files of the governed repository; `monitoring/pipeline_configs.py`
reads them with `ast`, never importing or executing them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from monitoring.models import ConfigSnapshot, ModelConfig
from monitoring.pipeline_configs import (
    KINDS,
    ConfigFolder,
    ConfigItem,
    config_folders,
    item_from_folder,
)
from releases import git
from releases.clones import clone_dir
from releases.models import Branch, Release, Repository

FOLDERS = tuple(f"{top}/" for top in KINDS)
FIELD_LIMIT = 40  # ModelConfig.status / .maturity


def commits_to_read(*, repository: Repository) -> list[str]:
    """Release commits and production's and development's heads not read yet."""
    wanted = list(
        Release.objects.filter(repository=repository)
        .order_by("-first_seen_at")
        .values_list("commit", flat=True)
    )
    wanted += Branch.objects.filter(
        repository=repository,
        name__in=[repository.production_branch, repository.development_branch],
        gone_at__isnull=True,
    ).values_list("head", flat=True)
    read = set(
        ConfigSnapshot.objects.filter(repository=repository, commit__in=wanted).values_list(
            "commit", flat=True
        )
    )
    return [commit for commit in dict.fromkeys(wanted) if commit and commit not in read]


def configs_at(repo: git.GitRepo, commits: list[str]) -> dict[str, list[ConfigItem]]:
    """{commit: its items}; a commit the clone lacks is left out."""
    folders: dict[str, list[ConfigFolder]] = {}
    for commit in commits:
        try:
            folders[commit] = config_folders(git.tree_blobs(repo, commit, *FOLDERS))
        except git.GitError:
            continue
    blobs = [
        folder.files[folder.chosen]
        for found in folders.values()
        for folder in found
        if folder.chosen is not None
    ]
    data = git.read_blobs(repo, blobs)
    parsed: dict[tuple[str, str], ConfigItem] = {}
    items: dict[str, list[ConfigItem]] = {}
    for commit, found in folders.items():
        items[commit] = []
        for folder in found:
            blob = folder.files[folder.chosen] if folder.chosen else ""
            key = (blob, f"{folder.folder}/{folder.chosen}")
            if key not in parsed or not blob:
                parsed[key] = item_from_folder(folder, data.get(blob) if blob else None)
            items[commit].append(parsed[key])
    return items


def deployment_configs_record(*, repository: Repository) -> int:
    """Read the commits not read yet; returns how many it recorded.

    A commit that is gone from the clone stays unread (tried again next time); one with no
    models or ensembles is recorded as read, with no items.
    """
    commits = commits_to_read(repository=repository)
    path = clone_dir(repository.name)
    if not commits or not path.exists():
        return 0
    found = configs_at(git.GitRepo(path), commits)
    recorded = 0
    for commit, items in found.items():
        with transaction.atomic():
            snapshot, created = ConfigSnapshot.objects.get_or_create(
                repository=repository, commit=commit
            )
            if not created:  # a concurrent run read it
                continue
            ModelConfig.objects.bulk_create(_rows(snapshot, items))
        recorded += 1
    return recorded


def _rows(snapshot: ConfigSnapshot, items: list[ConfigItem]) -> list[ModelConfig]:
    rows = []
    for item in items:
        problem = item.problem
        values = []
        for value in (item.status, item.maturity):
            if value is not None and len(value) > FIELD_LIMIT:
                problem = "; ".join(p for p in (problem, f"value {value[:60]!r}… too long") if p)
                value = value[:FIELD_LIMIT]
            values.append(value)
        rows.append(
            ModelConfig(
                snapshot=snapshot,
                name=item.name,
                kind=item.kind,
                status=values[0],
                maturity=values[1],
                path=item.path,
                problem=problem,
            )
        )
    return rows


@dataclass(frozen=True)
class ConfigChange:
    """One model or ensemble that differs between two snapshots (None: absent there)."""

    name: str
    kind: str
    before: ConfigItem | None
    after: ConfigItem | None

    @property
    def what(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed"


def config_changes(before: list[ConfigItem], after: list[ConfigItem]) -> list[ConfigChange]:
    """Models and ensembles added, removed, or whose status, maturity or problem changed."""
    old = {(item.kind, item.name): item for item in before}
    new = {(item.kind, item.name): item for item in after}
    changes = []
    for key in sorted(set(old) | set(new), key=lambda k: (k[0] != "ensemble", k[1])):
        a, b = old.get(key), new.get(key)
        if a is None or b is None or _declared(a) != _declared(b):
            changes.append(ConfigChange(key[1], key[0], a, b))
    return changes


@dataclass(frozen=True)
class StatusChange:
    """One model's deployment status from one side of a comparison to the other."""

    model: str
    before: str | None  # None: not there (or declares none) on the earlier side
    after: str | None  # None: removed (or declares none)


def status_changes(before: dict[str, str], after: dict[str, str]) -> list[StatusChange]:
    """Models added, removed, or whose status changed from one side to the other."""
    return [
        StatusChange(name, before.get(name), after.get(name))
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    ]


def _declared(item: ConfigItem) -> tuple[str | None, str | None, str]:
    return item.status, item.maturity, item.problem
