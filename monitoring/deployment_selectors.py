"""Reads of the Deployment status page and `deployments NAME --json` (a fixed number of
queries whatever the history length: releases, branches, stored items)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from monitoring.chart_selectors import ReleaseRef, release_sequence
from monitoring.deployments import ConfigChange, config_changes
from monitoring.models import ConfigSnapshot, ModelConfig
from monitoring.pipeline_configs import ConfigItem
from releases.models import Branch, Repository

PRODUCTION, DEVELOPMENT = "production", "development"


@dataclass
class ConfigPoint:
    """A release or a branch head, with the items read at its commit."""

    key: str  # "production", "development", or a release's version
    label: str
    commit: str | None  # None: the branch is not known (never synced, or gone)
    items: list[ConfigItem] | None  # None: not read yet
    release: ReleaseRef | None = None
    changes: list[ConfigChange] = field(default_factory=list)  # from the release before

    @property
    def read(self) -> bool:
        return self.items is not None

    def counts(self) -> dict[str, int]:
        items = self.items or []
        return {
            "models": sum(item.kind == "model" for item in items),
            "ensembles": sum(item.kind == "ensemble" for item in items),
            "unreadable": sum(bool(item.problem) for item in items),
        }

    def statuses(self) -> list[tuple[str, int]]:
        """(status or maturity, how many), most common first."""
        found = Counter(item.maturity or item.status or "unreadable" for item in self.items or [])
        return found.most_common()

    def as_json(self) -> list[dict[str, Any]] | None:
        return None if self.items is None else [item.as_json() for item in self.items]


@dataclass
class DeploymentBoard:
    production: ConfigPoint
    development: ConfigPoint
    releases: list[ConfigPoint]  # newest version first

    def points(self) -> list[ConfigPoint]:
        return [self.production, self.development, *self.releases]

    def point(self, key: str) -> ConfigPoint | None:
        return next((p for p in self.points() if p.key == key), None)

    @property
    def live(self) -> ConfigPoint | None:
        return next((p for p in self.releases if p.release and p.release.live), None)


def deployment_board(*, repository: Repository, limit: int | None = 50) -> DeploymentBoard:
    """Production's and development's heads and the newest `limit` releases (all with
    None), each with its items and, for releases, the changes from the release before."""
    releases = release_sequence(repository=repository, runs=False)
    if limit is not None:
        releases = releases[-(limit + 1) :]
    heads = dict(
        Branch.objects.filter(
            repository=repository,
            name__in=[repository.production_branch, repository.development_branch],
            gone_at__isnull=True,
        ).values_list("name", "head")
    )
    commits = {r.commit for r in releases} | set(heads.values())
    stored: dict[str, list[ConfigItem]] = {}
    rows = ModelConfig.objects.filter(
        snapshot__repository=repository, snapshot__commit__in=commits
    ).values_list("snapshot__commit", "name", "kind", "status", "maturity", "path", "problem")
    read = set(
        ConfigSnapshot.objects.filter(repository=repository, commit__in=commits).values_list(
            "commit", flat=True
        )
    )
    for commit in read:
        stored[commit] = []
    for commit, name, kind, status, maturity, path, problem in rows.order_by(
        "snapshot", "kind", "name"
    ):
        stored[commit].append(ConfigItem(name, kind, status, maturity, path, problem))

    def head(key: str, branch: str) -> ConfigPoint:
        commit = heads.get(branch)
        return ConfigPoint(key, f"{key} ({branch})", commit, stored.get(commit or ""))

    points = [
        ConfigPoint(r.version, r.tag or r.version, r.commit, stored.get(r.commit), release=r)
        for r in releases
    ]
    # pairwise, not zip([None, *points[:-1]], points): with no release that zip was the
    # 500 of issue 13.
    for before, after in pairwise(points):
        if before.items is not None and after.items is not None:
            after.changes = config_changes(before.items, after.items)
    # The extra oldest release only served as the base of the first change list.
    if limit is not None and len(points) > limit:
        points = points[1:]
    return DeploymentBoard(
        production=head(PRODUCTION, repository.production_branch),
        development=head(DEVELOPMENT, repository.development_branch),
        releases=list(reversed(points)),
    )


def deployments_json(*, repository: Repository) -> dict[str, Any]:
    """`{"production": [ITEM…], "development": [ITEM…], "releases": {"<version>": [ITEM…]}}`,
    newest release first; null where a head or release is not read (or does not exist)."""
    board = deployment_board(repository=repository, limit=None)
    return {
        PRODUCTION: board.production.as_json(),
        DEVELOPMENT: board.development.as_json(),
        "releases": {point.key: point.as_json() for point in board.releases},
    }
