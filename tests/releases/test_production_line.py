"""Where production stands: its live release, commits past it, releases off production."""

import pytest

pytestmark = pytest.mark.django_db


def test_production_head_on_a_release_is_that_release(governed):
    governed.tag("v1.0.0")
    governed.push()
    governed.sync()
    line = governed.line
    assert line.latest_release.version == "1.0.0"
    assert line.commits_past_latest == 0
    assert line.production_is_released
    assert line.production_head == governed.world.head("production")


def test_it_counts_the_commits_production_has_past_its_latest_release(governed):
    w = governed.world
    governed.tag("v1.0.0")
    for n in range(3):
        w.commit(f"fix: after the release {n}")
    governed.push()
    governed.sync()
    assert governed.line.latest_release.version == "1.0.0"
    assert governed.line.commits_past_latest == 3
    assert not governed.line.production_is_released


def test_the_latest_release_is_the_highest_version_on_production(governed):
    w = governed.world
    governed.tag("v1.1.0")
    w.commit("fix: a patch tagged lower by mistake")
    governed.tag("v1.0.5")
    governed.push()
    governed.sync()
    assert governed.line.latest_release.version == "1.1.0"
    assert governed.line.commits_past_latest == 1


def test_a_release_tagged_on_a_feature_branch_is_not_on_production(governed):
    w = governed.world
    governed.tag("v1.0.0")
    w.checkout("feature/try", new_from="development")
    w.commit("feat: tagged too early")
    governed.tag("v1.1.0")
    w.checkout("production")
    governed.push()
    governed.sync()
    assert not governed.release("1.1.0").on_production
    assert governed.release("1.0.0").on_production
    assert governed.line.latest_release.version == "1.0.0"
    assert governed.release("1.1.0").changelog == []


def test_a_release_that_reaches_production_later_is_marked_so(governed):
    w = governed.world
    governed.tag("v1.0.0")
    w.checkout("development")
    w.commit("feat: ready early")
    governed.tag("v1.1.0")
    w.checkout("production")
    governed.push()
    governed.sync()
    assert not governed.release("1.1.0").on_production
    w.merge("development", message="Merge branch 'development' into production")
    governed.push()
    governed.sync()
    release = governed.release("1.1.0")
    assert release.on_production
    assert [e["subject"] for e in release.changelog] == ["ready early"]
    assert governed.line.latest_release.version == "1.1.0"
    assert governed.line.commits_past_latest == 1  # the merge commit


def test_no_tags_at_all_means_no_live_release(governed):
    governed.push()
    governed.sync()
    assert governed.line.latest_release is None
    assert governed.line.commits_past_latest == 0
