"""The next version and its changelog, from development's commits since the latest release."""

import pytest

pytestmark = pytest.mark.django_db


def develop(governed, *messages: str) -> None:
    w = governed.world
    w.checkout("development")
    for message in messages:
        w.commit(message)
    w.checkout("production")


@pytest.mark.parametrize(
    ("messages", "version", "bump"),
    [
        (["fix: a crash"], "1.2.1", "patch"),
        (["perf: faster inference", "docs: readme"], "1.2.1", "patch"),
        (["fix: a crash", "feat: a new model"], "1.3.0", "minor"),
        (["feat(models)!: drop the old configs"], "2.0.0", "major"),
        (["fix: rename\n\nBREAKING CHANGE: the column is renamed"], "2.0.0", "major"),
        (["Update the README"], "1.2.1", "patch"),
    ],
)
def test_the_bump_follows_conventional_commits(governed, messages, version, bump):
    governed.tag("v1.2.0")
    develop(governed, *messages)
    governed.push()
    governed.sync()
    assert (governed.line.next_version, governed.line.next_bump) == (version, bump)


def test_docs_and_chores_alone_need_no_release(governed, settings):
    governed.tag("v1.2.0")
    develop(governed, "docs: the ADR on maturity", "chore: tidy", "ci: cache the venv")
    governed.push()
    governed.sync()
    assert (governed.line.next_version, governed.line.next_bump) == ("", "")
    settings.EWSDASH_NO_RELEASE_TYPES = frozenset({"ci"})
    governed.sync(force=True)
    assert (governed.line.next_version, governed.line.next_bump) == ("1.2.1", "patch")


def test_the_changelog_is_grouped_with_short_shas_and_authors(governed):
    w = governed.world
    governed.tag("v1.2.0")
    w.checkout("development")
    feat = w.commit(
        "feat(models): add purple_alien", author="Aisha Mensah", email="aisha@pipeline.example"
    )
    w.commit("fix: a crash")
    w.commit("chore: tidy")
    w.commit("refactor!: new layout")
    w.checkout("production")
    governed.push()
    governed.sync()
    changelog = governed.line.next_changelog
    assert [e["group"] for e in changelog] == ["Breaking", "Features", "Fixes", "Other"]
    assert changelog[1] == {
        "group": "Features",
        "sha": feat[:8],
        "author": "Aisha Mensah",
        "type": "feat",
        "scope": "models",
        "subject": "add purple_alien",
    }


def test_merge_commits_do_not_count_but_the_commits_they_merge_do(governed):
    w = governed.world
    governed.tag("v1.2.0")
    w.checkout("feature/x", new_from="development")
    w.commit("feat: from a feature branch")
    w.checkout("development")
    w.merge("feature/x", message="Merge branch 'feature/x' into development")
    w.checkout("production")
    governed.push()
    governed.sync()
    assert governed.line.next_version == "1.3.0"
    assert [e["subject"] for e in governed.line.next_changelog] == ["from a feature branch"]


def test_nothing_on_development_since_the_release_proposes_no_version(governed):
    governed.tag("v1.2.0")
    governed.push()
    governed.sync()
    assert (governed.line.next_version, governed.line.next_bump) == ("", "")
    assert governed.line.next_changelog == []


def test_without_any_release_the_first_version_is_1_0_0(governed):
    develop(governed, "feat: everything")
    governed.push()
    governed.sync()
    assert governed.line.next_version == "1.0.0"


def test_a_higher_release_off_production_pushes_the_proposal_past_it(governed):
    w = governed.world
    governed.tag("v1.2.0")
    w.checkout("experiment", new_from="production")
    w.commit("feat: tagged on an experiment")
    governed.tag("v1.3.0")
    develop(governed, "feat: the real next feature")
    governed.push()
    governed.sync()
    assert governed.line.next_version == "1.4.0"


def test_the_range_starts_at_the_latest_release_even_when_development_lacks_it(governed):
    w = governed.world
    governed.tag("v1.2.0")
    w.checkout("hotfix/x", new_from="production")
    w.commit("fix: hotfix only on production")
    w.checkout("production")
    w.merge("hotfix/x")
    governed.tag("v1.2.1")
    develop(governed, "feat: on development")
    governed.push()
    governed.sync()
    assert governed.line.next_version == "1.3.0"
    assert [e["subject"] for e in governed.line.next_changelog] == ["on development"]


def test_the_changelog_lists_only_what_production_lacks(governed):
    # views-models: 375 of the 544 commits since 0.2.1 were already on main, untagged.
    w = governed.world
    governed.tag("v1.2.0")
    develop(governed, "feat: already shipped, untagged")
    w.git("merge", "--quiet", "--no-ff", "-m", "Merge development", "development")
    develop(governed, "fix: only on development")
    governed.push()
    governed.sync()
    assert (governed.line.next_version, governed.line.next_bump) == ("1.3.0", "minor")
    assert [e["subject"] for e in governed.line.next_changelog] == ["only on development"]
