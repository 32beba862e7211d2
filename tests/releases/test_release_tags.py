"""Releases read from tags at sync: semver parsing, duplicates, bad tags, moved and deleted tags."""

import pytest

from releases import selectors
from releases.models import AuditEvent, ReleaseKind, TagState

pytestmark = pytest.mark.django_db


def test_it_records_a_release_for_every_semver_tag_with_or_without_v(governed):
    w = governed.world
    first = w.head()
    governed.tag("v1.0.0")
    w.commit("feat: forecasts for 2025")
    governed.tag("1.1.0", message="1.1.0\n\nAnnual update.")
    governed.push()
    governed.sync()
    assert governed.versions() == {"1.0.0", "1.1.0"}
    release = governed.release("1.0.0")
    assert (release.tag, release.commit, release.kind) == ("v1.0.0", first, ReleaseKind.IMPORTED)
    assert governed.release("1.1.0").commit == w.head()


def test_it_lists_both_tags_of_one_version(governed):
    governed.tag("v1.1.0")
    governed.tag("v1.2.0")
    governed.tag("1.2.0")
    governed.push()
    governed.sync()
    release = governed.release("1.2.0")
    assert sorted(release.tags) == ["1.2.0", "v1.2.0"]
    assert release.tag == "v1.2.0"  # the repository's style (mostly v) is primary
    assert release.other_tags == ["1.2.0"]
    assert governed.versions() == {"1.1.0", "1.2.0"}


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        ("v1.2", "incomplete version"),
        ("release-3", "not a semantic version"),
        ("1.0.0.0", "exactly three"),
        ("v01.2.3", "leading zero"),
    ],
)
def test_it_lists_a_tag_that_is_not_semver_with_the_reason(governed, tag, reason):
    governed.tag(tag)
    governed.tag("v1.0.0")
    governed.push()
    governed.sync()
    assert governed.versions() == {"1.0.0"}
    [ignored] = governed.line.not_semver_tags
    assert ignored["tag"] == tag
    assert reason in ignored["reason"]


def test_it_orders_releases_by_semver_precedence_pre_releases_included(governed):
    w = governed.world
    for tag in ["v1.0.0-rc.1", "v1.0.0", "v1.0.1-alpha", "v1.0.10", "v1.0.2", "v1.0.0-rc.2"]:
        w.commit(f"fix: towards {tag}")
        governed.tag(tag)
    governed.push()
    governed.sync()
    board = selectors.release_board(repository=governed.repository)
    assert [r.version for r in board.releases] == [
        "1.0.10",
        "1.0.2",
        "1.0.1-alpha",
        "1.0.0",
        "1.0.0-rc.2",
        "1.0.0-rc.1",
    ]
    assert board.live.version == "1.0.10"


def test_a_tag_on_a_commit_on_no_branch_is_a_release_not_on_production(governed):
    w = governed.world
    governed.tag("v1.0.0")
    w.checkout("scratch", new_from="production")
    orphan = w.commit("feat: an experiment nobody kept")
    governed.tag("v9.0.0")
    w.checkout("production")
    w.git("branch", "-D", "scratch")
    governed.push()
    governed.sync()
    release = governed.release("9.0.0")
    assert release.commit == orphan
    assert not release.on_production
    assert governed.release("1.0.0").on_production
    assert governed.line.latest_release.version == "1.0.0"


def test_an_annotated_tag_pointing_at_a_tag_is_peeled_to_its_commit(governed):
    w = governed.world
    governed.tag("inner", message="the inner tag")
    w.git("tag", "-a", "-m", "a tag of a tag", "v2.0.0", "inner")
    governed.push()
    governed.sync()
    assert w.origin_git("cat-file", "-t", "v2.0.0") == "tag"
    assert governed.release("2.0.0").commit == w.head("production")
    assert [t["tag"] for t in governed.line.not_semver_tags] == ["inner"]


def test_a_tag_naming_a_tree_is_listed_not_released(governed):
    w = governed.world
    w.git("tag", "v3.0.0", "HEAD^{tree}")
    governed.tag("v1.0.0")
    governed.push()
    governed.sync()
    assert governed.versions() == {"1.0.0"}
    assert governed.line.not_semver_tags == [
        {"tag": "v3.0.0", "reason": "names a tree, not a commit"}
    ]


def test_it_detects_the_tag_style_from_history(governed):
    w = governed.world
    governed.tag("1.0.0")
    w.commit("fix: one")
    governed.tag("1.0.1")
    governed.push()
    assert governed.sync() and governed.repository.tag_style == ""
    assert AuditEvent.objects.filter(action="repository.tag_style_detected").count() == 1
    assert governed.release("1.0.1").tag == "1.0.1"


def test_a_repository_without_semver_tags_keeps_its_tag_style(governed):
    governed.tag("release-3")
    governed.push()
    governed.sync()
    assert governed.repository.tag_style == "v"


def test_it_records_tagger_and_date_of_an_imported_release(governed):
    w = governed.world
    w.git("tag", "-a", "-m", "v1.0.0", "v1.0.0", env=w.env("Maja Tagger", "maja@pipeline.example"))
    governed.tag("v1.0.1")  # lightweight: the commit's committer stands in
    governed.push()
    governed.sync()
    annotated, light = governed.release("1.0.0"), governed.release("1.0.1")
    assert (annotated.tagger_name, annotated.tagger_email) == (
        "Maja Tagger",
        "maja@pipeline.example",
    )
    assert annotated.tagged_at is not None
    assert light.tagger_name == "Pat Author" and light.tagged_at is not None


def test_a_tag_moved_at_the_origin_is_flagged_and_the_commit_kept(governed):
    w = governed.world
    recorded = w.head()
    governed.tag("v1.0.0")
    governed.push()
    governed.sync()
    moved_to = w.commit("fix: rewritten release")
    w.git("tag", "-f", "v1.0.0", moved_to)
    governed.push()
    outcome = governed.sync()
    release = governed.release("1.0.0")
    assert release.commit == recorded
    assert (release.tag_state, release.origin_commit) == (TagState.MOVED, moved_to)
    assert release.tag_changed_at is not None
    assert "v1.0.0 moved" in outcome.summary
    event = AuditEvent.objects.get(action="release.tag_moved")
    assert event.payload["recorded_commit"] == recorded
    assert event.payload["origin_commit"] == moved_to
    governed.sync(force=True)  # seen again: no second event
    assert AuditEvent.objects.filter(action="release.tag_moved").count() == 1


def test_a_tag_put_back_where_it_was_is_as_recorded_again(governed):
    w = governed.world
    recorded = w.head()
    governed.tag("v1.0.0")
    governed.push()
    governed.sync()
    w.git("tag", "-f", "v1.0.0", w.commit("fix: elsewhere"))
    governed.push()
    governed.sync()
    w.git("tag", "-f", "v1.0.0", recorded)
    governed.push()
    governed.sync()
    release = governed.release("1.0.0")
    assert (release.tag_state, release.origin_commit) == (TagState.OK, "")
    assert AuditEvent.objects.filter(action="release.tag_restored").count() == 1


def test_a_tag_deleted_at_the_origin_is_flagged_not_removed(governed):
    w = governed.world
    governed.tag("v1.0.0")
    governed.push()
    governed.sync()
    w.git("push", "--quiet", "origin", ":refs/tags/v1.0.0")
    outcome = governed.sync()
    release = governed.release("1.0.0")
    assert release.tag_state == TagState.DELETED
    assert release.commit == w.head()
    assert "v1.0.0 deleted" in outcome.summary
    assert AuditEvent.objects.filter(action="release.tag_deleted").count() == 1


def test_it_audits_new_releases_once_per_sync(governed):
    for tag in ["v1.0.0", "v1.0.1", "1.0.2"]:
        governed.world.commit(f"fix: {tag}")
        governed.tag(tag)
    governed.push()
    outcome = governed.sync()
    assert sorted(outcome.releases_added) == ["1.0.0", "1.0.1", "1.0.2"]
    [event] = AuditEvent.objects.filter(action="release.imported")
    assert event.payload["count"] == 3
    governed.sync(force=True)
    assert AuditEvent.objects.filter(action="release.imported").count() == 1


def test_invalid_utf8_in_tag_and_commit_messages_does_not_break_sync(governed):
    w = governed.world
    w.commit(b"feat: bad bytes \xff\xfe in a release\n\nbody \xc3\x28 too\n")
    governed.tag("v1.0.0", message=b"v1.0.0\n\nnotes \xff\n")
    w.checkout("development")
    w.commit(b"fix: more bad bytes \xfe\n")
    w.checkout("production")
    governed.push()
    governed.sync()
    # git itself may re-encode the bytes; either way the text arrives whole and readable.
    [entry] = [e for e in governed.release("1.0.0").changelog if "bad bytes" in e["subject"]]
    assert entry["subject"].startswith("bad bytes ") and entry["subject"].endswith("in a release")
    assert "bad bytes" in governed.line.next_changelog[0]["subject"]


def test_the_changelog_of_each_release_holds_the_commits_it_shipped(governed):
    w = governed.world
    governed.tag("v1.0.0")
    w.checkout("development")
    w.commit("feat: add a model")
    w.commit("fix: its config")
    w.checkout("production")
    w.merge("development", message="Merge branch 'development' into production")
    governed.tag("v1.1.0")
    w.commit("docs: a note after the release")
    governed.push()
    governed.sync()
    subjects = [e["subject"] for e in governed.release("1.1.0").changelog]
    assert subjects == ["add a model", "its config"]  # the merge is not an entry
    assert [e["subject"] for e in governed.release("1.0.0").changelog] == ["initial pipeline"]
