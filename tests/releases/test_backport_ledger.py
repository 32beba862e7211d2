"""The back-port ledger: production commits development lacks, until it contains them."""

from datetime import timedelta

import pytest

from releases import selectors
from releases.models import AuditEvent, BackportItem, BackportResolution

pytestmark = pytest.mark.django_db


def hotfix(governed, subject="fix: urgent production fix", *, tag="v1.0.1") -> str:
    """A hotfix branch cut from production, merged back into it and tagged."""
    w = governed.world
    w.checkout("hotfix/urgent", new_from="production")
    sha = w.commit(subject, files={"hot.py": "fixed = True\n"})
    w.checkout("production")
    w.merge("hotfix/urgent", message="Merge branch 'hotfix/urgent' into production")
    if tag:
        governed.tag(tag)
    return sha


@pytest.fixture
def released(governed):
    governed.tag("v1.0.0")
    governed.world.checkout("development")
    governed.world.commit("feat: work in progress", files={"dev.py": "x = 1\n"})
    governed.world.checkout("production")
    return governed


def items(governed) -> list[BackportItem]:
    return list(BackportItem.objects.filter(repository=governed.repository).order_by("id"))


def test_a_hotfix_development_lacks_is_one_open_item_from_its_release(released):
    sha = hotfix(released)
    released.push()
    released.sync()
    [item] = items(released)  # the hotfix merge commit is not an item
    assert (item.commit, item.subject, item.is_open) == (sha, "fix: urgent production fix", True)
    assert item.release.version == "1.0.1"
    assert item.author_name == "Pat Author"
    [event] = AuditEvent.objects.filter(action="backports.changed")
    assert event.payload["opened"] == [sha]


def test_a_production_commit_not_released_yet_has_no_release(released):
    w = released.world
    sha = w.commit("fix: straight onto production")
    released.push()
    released.sync()
    [item] = items(released)
    assert item.commit == sha and item.release is None


def test_merges_that_bring_development_into_production_are_not_items(released):
    w = released.world
    w.merge("development", message="Merge branch 'development' into production")
    released.tag("v1.1.0")
    released.push()
    released.sync()
    assert w.divergence("development", "production") == (1, 0)  # production has the merge
    assert items(released) == []


def test_a_cherry_pick_with_x_on_development_resolves_the_item(released):
    w = released.world
    sha = hotfix(released)
    w.checkout("development")
    w.git("cherry-pick", "-x", sha, env=w.env())
    picked = w.head()
    w.checkout("production")
    released.push()
    released.sync()
    [item] = items(released)
    assert not item.is_open
    # An unchanged cherry-pick is an equal patch too; git's patch-id answers first.
    assert item.resolved_how in (BackportResolution.PATCH_ID, BackportResolution.CHERRY_PICK)
    assert picked != sha


def test_a_cherry_pick_without_x_resolves_the_item_by_patch_id(released):
    w = released.world
    sha = hotfix(released)
    w.checkout("development")
    w.git("cherry-pick", sha, env=w.env())
    assert "cherry picked" not in w.git("log", "-1", "--format=%B")
    w.checkout("production")
    released.push()
    released.sync()
    [item] = items(released)
    assert item.resolved_how == BackportResolution.PATCH_ID
    assert item.resolved_at is not None


def test_an_equal_patch_with_another_sha_and_message_resolves_the_item(released):
    w = released.world
    sha = hotfix(released)
    w.checkout("development")
    again = w.commit(
        "fix: the same change, typed again",
        files={"hot.py": "fixed = True\n"},
        author="Someone Else",
        email="else@pipeline.example",
    )
    w.checkout("production")
    released.push()
    released.sync()
    assert again != sha
    [item] = items(released)
    assert item.resolved_how == BackportResolution.PATCH_ID


def test_a_trailer_naming_the_commit_resolves_an_item_whose_patch_differs(released):
    w = released.world
    sha = hotfix(released)
    w.checkout("development")
    ported = w.commit(
        f"fix: port the hotfix by hand\n\n(cherry picked from commit {sha[:12]})",
        files={"hot.py": "fixed = True  # adapted to development\n"},
    )
    w.checkout("production")
    released.push()
    released.sync()
    [item] = items(released)
    assert item.resolved_how == BackportResolution.CHERRY_PICK
    assert item.resolved_by_commit == ported


def test_merging_production_into_development_resolves_open_items_by_ancestry(released):
    w = released.world
    hotfix(released)
    released.push()
    released.sync()
    assert items(released)[0].is_open
    w.checkout("development")
    w.merge("production", message="Merge branch 'production' into development")
    w.checkout("production")
    released.push()
    released.sync()
    [item] = items(released)
    assert item.resolved_how == BackportResolution.ANCESTRY
    assert AuditEvent.objects.filter(action="backports.changed").count() == 2


def test_a_resolved_item_stays_resolved_once_its_port_reaches_production(released):
    w = released.world
    sha = hotfix(released)
    w.checkout("development")
    w.git("cherry-pick", sha, env=w.env())
    w.checkout("production")
    released.push()
    released.sync()
    w.merge("development", message="Merge branch 'development' into production")
    released.push()
    released.sync()
    [item] = items(released)
    assert item.resolved_how == BackportResolution.PATCH_ID


def test_items_older_than_seven_days_are_flagged(released):
    hotfix(released)
    released.push()
    released.sync()
    [item] = items(released)
    since = item.pending_since
    assert since == item.release.tagged_at
    fresh = selectors.backport_ledger(repository=released.repository, now=since + timedelta(days=6))
    stale = selectors.backport_ledger(repository=released.repository, now=since + timedelta(days=8))
    assert [row.stale for row in fresh.open] == [False]
    assert [row.stale for row in stale.open] == [True]
    assert stale.stale_count == 1
    assert stale.open[0].age == timedelta(days=8)


def test_a_port_already_promoted_to_production_resolves_the_item_on_a_first_sync(released):
    w = released.world
    sha = hotfix(released)
    w.checkout("development")
    w.commit("fix: ported by hand, same change", files={"hot.py": "fixed = True\n"})
    port = w.head()
    w.checkout("production")
    w.merge("development", message="Merge branch 'development' into production")
    released.tag("v1.1.0")
    released.push()
    # git's --cherry-mark no longer sees the port: it is on both sides now.
    marks = w.origin_git(
        "log",
        "--cherry-mark",
        "--right-only",
        "--no-merges",
        "--format=%m %H",
        "development...production",
    )
    assert marks.split() in (["+", sha], [">", sha])  # not "=": no equal patch found
    released.sync()
    [item] = items(released)
    assert (item.resolved_how, item.resolved_by_commit) == (BackportResolution.PATCH_ID, port)


def test_a_later_commit_touching_the_same_file_differently_does_not_resolve_it(released):
    w = released.world
    hotfix(released)
    w.checkout("development")
    w.commit("fix: something else in the same file", files={"hot.py": "fixed = False\n"})
    w.checkout("production")
    released.push()
    released.sync()
    [item] = items(released)
    assert item.is_open
