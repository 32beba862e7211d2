"""Development that lacks only production's release merge commits is in sync: the merge
of a commit development already has, with that commit's tree, changes no content
(issue 14). Rule (releases.git.lacks_only_release_merges): every commit in
`development..production` is a merge whose tree equals the tree of a parent development
contains. Real git repositories; the pages after a sync."""

import pytest
from django.urls import reverse

from releases import git, services, sync
from releases.models import Branch
from tests.support.gitrepo import GitWorld

pytestmark = pytest.mark.django_db


def promote(world: GitWorld, version: str) -> str:
    """What a promotion does: merge development's head into production with --no-ff, tag."""
    world.checkout("production")
    merge = world.merge("development", message=f"Release v{version}: merge development")
    world.git("tag", "-a", "-m", f"v{version}", f"v{version}")
    return merge


@pytest.fixture
def released(tmp_path) -> GitWorld:
    """Two promotions in a row; development never merged production back."""
    world = GitWorld(tmp_path / "git")
    world.commit("chore: initial pipeline", files={"README.md": "pipeline\n"})
    world.git("tag", "-a", "-m", "v1.0.0", "v1.0.0")
    world.checkout("development", new_from="production")
    world.commit("feat: retrain purple_alien", files={"models/purple_alien.py": "x=1\n"})
    promote(world, "1.1.0")
    world.checkout("development")
    world.commit("fix: step index", files={"models/purple_alien.py": "x=2\n"})
    promote(world, "1.1.1")
    world.checkout("development")
    world.commit("feat: next work, not released", files={"features/next.py": "n=1\n"})
    world.push_all()
    return world


def overview(client) -> str:
    response = client.get(reverse("repository_overview", kwargs={"name": "pipeline"}))
    assert response.status_code == 200
    return response.content.decode()


def register(world: GitWorld):
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    sync.repository_sync(repository=repository, actor="test")
    return repository


def test_development_lacking_only_release_merges_is_shown_in_sync(released, login):
    # git itself: development lacks the two release merges, and no file differs on the
    # paths production has.
    assert released.divergence("production", "development") == (1, 2)
    assert released.origin_git("diff", "--stat", "development", "production", "--", "models") == ""
    register(released)
    development = Branch.objects.get(name="development")
    assert development.behind_production == 2  # git's count, unchanged
    assert development.behind_only_by_release_merges
    client = login("viewer")
    html = overview(client)
    assert 'data-testid="dev-behind">Development is in sync with production<' in html
    assert "It lacks only production's release merge commits (2)" in html
    assert "commits behind production" not in html
    branches = client.get(reverse("branch_list", kwargs={"name": "pipeline"})).content.decode()
    assert 'data-testid="behind-by-merges">2 (merges only)<' in branches


def test_a_production_only_commit_is_still_behind(released, login):
    released.checkout("production")
    released.commit("fix: urgent production fix", files={"hot.py": "h=1\n"})
    released.push_all()
    register(released)
    assert not Branch.objects.get(name="development").behind_only_by_release_merges
    html = overview(login("viewer"))
    assert 'data-testid="dev-behind">Development is 3 commits behind production<' in html


def test_a_merge_that_brings_content_development_lacks_is_behind(released, login):
    """A hotfix branch merged into production: a merge commit, but its tree is no tree
    development has."""
    released.checkout("hotfix/urgent", new_from="production")
    released.commit("fix: urgent", files={"hot.py": "h=1\n"})
    released.checkout("production")
    released.merge("hotfix/urgent")
    released.git("branch", "-D", "hotfix/urgent")
    released.push_all()
    register(released)
    assert not Branch.objects.get(name="development").behind_only_by_release_merges
    html = overview(login("viewer"))
    assert "Development is 4 commits behind production" in html


def test_the_rule_at_the_git_level(released):
    repo = git.GitRepo(released.origin)
    assert git.lacks_only_release_merges(repo, "development", "production")
    # Nothing lacking, or production lacking development's work, is not "only merges".
    assert not git.lacks_only_release_merges(repo, "production", "production")
    assert not git.lacks_only_release_merges(repo, "production", "development")
    # A limit: more missing commits than it are not examined.
    assert not git.lacks_only_release_merges(repo, "development", "production", limit=1)
