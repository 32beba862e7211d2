"""The back-port ledger's equal-patch check computes each commit's patch id once: a forced
re-sync diffs nothing, a sync after new commits diffs only those."""

import subprocess

import pytest

from releases.git import GitRepo
from releases.models import BackportItem, BackportResolution, PatchId
from tests.releases.test_backport_ledger import hotfix, released  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def diffed(monkeypatch) -> list[list[str]]:
    """Every list of commits whose patches git was asked for."""
    calls: list[list[str]] = []
    real = GitRepo.patch_ids_of

    def spy(self, commits):
        calls.append(list(commits))
        return real(self, commits)

    monkeypatch.setattr(GitRepo, "patch_ids_of", spy)
    return calls


def open_hotfix(governed) -> str:
    """A hotfix development lacks and no equal patch resolves: the check runs every sync."""
    sha = hotfix(governed)
    governed.push()
    return sha


def development_commits(governed) -> set[str]:
    out = governed.world.origin_git("rev-list", "--no-merges", "development")
    return set(out.split())


def test_the_first_sync_keeps_every_patch_id_it_computed(released, diffed):  # noqa: F811
    sha = open_hotfix(released)
    released.sync()

    kept = dict(
        PatchId.objects.filter(repository=released.repository).values_list("commit", "patch_id")
    )
    assert set(kept) == development_commits(released) | {sha}
    # The same id plain git gives for the hotfix's patch.
    show = subprocess.run(
        ["git", "show", sha], cwd=released.world.origin, capture_output=True, check=True
    ).stdout
    plain = subprocess.run(
        ["git", "patch-id", "--stable"],
        cwd=released.world.origin,
        input=show,
        capture_output=True,
        check=True,
    ).stdout.split()
    assert kept[sha] == plain[0].decode()
    assert sum(len(call) for call in diffed) == len(kept)


def test_a_forced_resync_diffs_nothing(released, diffed):  # noqa: F811
    open_hotfix(released)
    released.sync()
    diffed.clear()

    released.sync(force=True)

    assert [call for call in diffed if call] == []
    [item] = BackportItem.objects.filter(repository=released.repository)
    assert item.is_open


def test_new_commits_are_the_only_ones_diffed_and_an_equal_patch_still_resolves(
    released,  # noqa: F811
    diffed,
):
    sha = open_hotfix(released)
    released.sync()
    diffed.clear()
    w = released.world
    w.checkout("development")
    port = w.commit("fix: ported by hand, same change", files={"hot.py": "fixed = True\n"})
    w.checkout("production")
    w.merge("development", message="Merge branch 'development' into production")
    released.push()

    released.sync()

    assert [call for call in diffed if call] == [[port]]
    [item] = BackportItem.objects.filter(repository=released.repository, commit=sha)
    assert (item.resolved_how, item.resolved_by_commit) == (BackportResolution.PATCH_ID, port)
