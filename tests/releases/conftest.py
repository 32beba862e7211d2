"""Release-history worlds: small real repositories shaped for one case each."""

from __future__ import annotations

import pytest

from releases import services, sync
from releases.models import Release, ReleaseLine
from tests.support.gitrepo import GitWorld


class Governed:
    """A GitWorld with production and development, registered and synced on demand."""

    def __init__(self, world: GitWorld) -> None:
        self.world = world
        self.repository = None

    def tag(self, name: str, ref: str = "HEAD", *, message: str | bytes | None = None) -> None:
        if message is None:
            self.world.git("tag", name, ref)
        elif isinstance(message, bytes):
            import subprocess

            subprocess.run(
                ["git", "tag", "-a", "-F", "-", name, ref],
                cwd=self.world.work,
                env=self.world.env(),
                input=message,
                check=True,
            )
        else:
            self.world.git("tag", "-a", "-m", message, name, ref)

    def push(self) -> None:
        self.world.push_all()

    def sync(self, *, force: bool = False) -> sync.SyncOutcome:
        if self.repository is None:
            self.repository = services.repository_create(
                actor="test", name="pipeline", origin=str(self.world.origin)
            )
        outcome = sync.repository_sync(repository=self.repository, actor="test", force=force)
        assert not outcome.error, outcome.error
        return outcome

    def release(self, version: str) -> Release:
        return Release.objects.get(repository=self.repository, version=version)

    def versions(self) -> set[str]:
        return set(
            Release.objects.filter(repository=self.repository).values_list("version", flat=True)
        )

    @property
    def line(self) -> ReleaseLine:
        return ReleaseLine.objects.get(repository=self.repository)


@pytest.fixture
def governed(tmp_path, db) -> Governed:
    """production with one commit, development branched from it; nothing pushed yet."""
    world = GitWorld(tmp_path / "gov")
    world.commit("chore: initial pipeline", files={"README.md": "pipeline\n"})
    world.checkout("development", new_from="production")
    world.checkout("production")
    return Governed(world)
