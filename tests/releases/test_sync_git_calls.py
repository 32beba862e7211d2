"""Sync reads release history with a fixed number of git calls, whatever its size."""

import pytest

from releases import git
from releases.models import Release, Repository

pytestmark = pytest.mark.django_db


def grow(governed, releases: int) -> None:
    """`releases` releases on production (mixed v and bare tags), each with a hotfix
    development lacks, and new work on development."""
    w = governed.world
    for n in range(releases):
        w.commit(f"feat: step {n}", files={f"s{n}.py": f"n = {n}\n"})
        w.commit(f"fix: step {n}\n\nbody {n}", files={f"s{n}.py": f"n = {n + 1}\n"})
        governed.tag(f"v1.{n}.0" if n % 2 else f"1.{n}.0", message=f"release {n}")
    w.checkout("development")
    w.commit("feat: next", files={"next.py": "x = 1\n"})
    w.checkout("production")
    governed.push()


def count_calls(governed, monkeypatch) -> list[tuple[str, ...]]:
    calls: list[tuple[str, ...]] = []
    real = git.GitRepo.run

    def counting(self, *args, **kwargs):
        calls.append(tuple(a for a in args if a not in git.PROTOCOL_CONFIG))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(git.GitRepo, "run", counting)
    governed.sync(force=True)
    monkeypatch.setattr(git.GitRepo, "run", real)
    return calls


def history_calls(calls: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Leave out what branch sync did before this issue: ls-remote, fetch, the branch
    listing and the per-branch divergence counts."""

    def is_branch_sync(args: tuple[str, ...]) -> bool:
        return (
            args[0] in ("ls-remote", "fetch", "config", "init")
            or args[:2] == ("rev-list", "--left-right")
            or (args[0] == "for-each-ref" and args[-1] == "refs/heads/")
        )

    return [args for args in calls if not is_branch_sync(args)]


@pytest.mark.parametrize("releases", [2, 25])
def test_it_reads_history_in_at_most_twelve_git_calls(governed, monkeypatch, releases):
    grow(governed, releases)
    governed.sync()
    calls = history_calls(count_calls(governed, monkeypatch))
    assert Release.objects.count() == releases
    assert len(calls) <= 12, calls


def test_the_number_of_calls_does_not_grow_with_tags_or_commits(tmp_path, db, monkeypatch):
    from tests.releases.conftest import Governed
    from tests.support.gitrepo import GitWorld

    counts = []
    for size in (2, 30):
        world = GitWorld(tmp_path / f"w{size}")
        world.commit("chore: start", files={"a": "a\n"})
        world.checkout("development", new_from="production")
        world.checkout("production")
        governed = Governed(world)
        grow(governed, size)
        first = count_calls(governed, monkeypatch)  # registration's first sync
        counts.append(len(history_calls(first)))
        # Repositories are never deleted; free the name for the next size.
        Repository.objects.filter(pk=governed.repository.pk).update(name=f"earlier-{size}")
    assert counts[0] == counts[1]


def test_an_unchanged_origin_costs_one_git_call(governed, monkeypatch):
    grow(governed, 3)
    governed.sync()
    calls: list[str] = []
    real = git.GitRepo.run
    monkeypatch.setattr(
        git.GitRepo, "run", lambda self, *a, **k: calls.append(a) or real(self, *a, **k)
    )
    governed.sync()
    assert len(calls) == 1 and "ls-remote" in calls[0]
