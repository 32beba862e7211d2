import datetime as dt

import pytest
from semver import Version

from releases.versioning import (
    CommitInfo,
    VersionError,
    bump_for,
    next_version,
    parse_commit_message,
    validate_override,
)

WHEN = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


def commit(subject: str, body: str = "", *, merge: bool = False, sha: str = "a" * 40) -> CommitInfo:
    return CommitInfo(
        sha=sha,
        subject=subject,
        body=body,
        author_name="Ada",
        author_email="ada@example.org",
        committed_at=WHEN,
        is_merge=merge,
    )


def test_no_commits_no_bump() -> None:
    assert bump_for([]) is None


@pytest.mark.parametrize(
    ("subjects", "bump"),
    [
        (["docs: readme"], None),
        (["docs: readme", "chore: tidy", "ci: cache", "test: more", "style: black"], None),
        (["docs!: the API reference moved"], "major"),
        (["chore: tidy", "Update config"], "patch"),
        (["fix: off by one"], "patch"),
        (["perf: faster drift"], "patch"),
        (["fix: a", "feat: b", "docs: c"], "minor"),
        (["feat: a", "feat!: b"], "major"),
        (["fix(io)!: new layout"], "major"),
        (['Revert "feat!: drop format"'], "patch"),
        (["<script>alert(1)</script>"], "patch"),
    ],
)
def test_bump_from_subjects(subjects: list[str], bump: str | None) -> None:
    assert bump_for([commit(s) for s in subjects]) == bump


def test_the_no_release_types_are_a_parameter() -> None:
    assert bump_for([commit("docs: readme")], no_release=frozenset()) == "patch"
    assert bump_for([commit("refactor: io")], no_release=frozenset({"refactor"})) is None


def test_breaking_footer_is_major() -> None:
    assert bump_for([commit("refactor: io", "BREAKING CHANGE: new schema")]) == "major"


def test_merge_commits_do_not_count() -> None:
    merge = commit("Merge pull request #3 from org/feat", "feat!: everything", merge=True)
    assert bump_for([merge]) is None
    assert bump_for([merge, commit("fix: x")]) == "patch"
    # even a conventional-looking merge subject does not bump when git says it is a merge
    assert bump_for([commit("feat!: merged", merge=True), commit("fix: y")]) == "patch"
    # and a single-parent commit with a merge-like subject is an ordinary change
    assert bump_for([commit("Merge branch 'x' into development", merge=False)]) == "patch"


def test_bump_accepts_parsed_commits_too() -> None:
    assert bump_for([parse_commit_message("feat: x", "")]) == "minor"


@pytest.mark.parametrize(
    ("latest", "bump", "expected"),
    [
        (None, "patch", "1.0.0"),
        (None, "major", "1.0.0"),
        ("1.4.2", "patch", "1.4.3"),
        ("1.4.2", "minor", "1.5.0"),
        ("1.4.2", "major", "2.0.0"),
        ("0.9.3", "major", "1.0.0"),
        ("1.4.2+build.9", "patch", "1.4.3"),
        ("2.0.0-rc.1", "minor", "2.0.0"),
        ("2.0.0-rc.1", "patch", "2.0.0"),
        ("2.0.0-rc.1", "major", "2.0.0"),
        ("1.3.0-rc.1", "patch", "1.3.0"),
        ("1.3.0-rc.1", "minor", "1.3.0"),
        ("1.3.0-rc.1", "major", "2.0.0"),
        ("1.2.3-rc.1", "patch", "1.2.3"),
        ("1.2.3-rc.1", "minor", "1.3.0"),
        ("1.2.3-rc.1", "major", "2.0.0"),
    ],
)
def test_next_version(latest: str | None, bump: str, expected: str) -> None:
    previous = Version.parse(latest) if latest else None
    result = next_version(previous, bump)  # type: ignore[arg-type]
    assert str(result) == expected
    if previous is not None:
        assert result > previous


def test_next_version_refuses_unknown_bump() -> None:
    with pytest.raises(ValueError, match="bump must be"):
        next_version(Version.parse("1.0.0"), "huge")  # type: ignore[arg-type]


EXISTING = [Version.parse(v) for v in ("1.0.0", "1.1.0", "1.2.0", "1.3.0-rc.1")]
MINIMUM = Version.parse("1.3.0")


@pytest.mark.parametrize("proposed", ["1.3.0", "v1.3.0", "1.4.0", "2.0.0", " 2.0.0 ", "1.3.1-rc.1"])
def test_override_upward_is_accepted(proposed: str) -> None:
    result = validate_override(proposed, existing=EXISTING, minimum=MINIMUM)
    assert result == Version.parse(proposed.strip().removeprefix("v"))
    assert result.build is None


@pytest.mark.parametrize(
    ("proposed", "message"),
    [
        ("1.2.9", "only be overridden upward"),
        ("1.3.0-rc.2", "only be overridden upward"),
        ("1.3", "not a semantic version"),
        ("", "not a semantic version"),
        ("banana", "not a semantic version"),
        ("V1.4.0", "not a semantic version"),
        ("1.4.0+build.1", "build metadata"),
    ],
)
def test_bad_override_is_refused_with_a_message(proposed: str, message: str) -> None:
    with pytest.raises(VersionError, match=message):
        validate_override(proposed, existing=EXISTING, minimum=MINIMUM)


def test_override_equal_to_an_existing_release_is_refused() -> None:
    existing = [*EXISTING, Version.parse("1.4.0")]
    with pytest.raises(VersionError, match="does not exceed the existing release 1.4.0"):
        validate_override("1.4.0", existing=existing, minimum=MINIMUM)
    with pytest.raises(VersionError, match="does not exceed"):
        validate_override("v1.3.5", existing=existing, minimum=MINIMUM)


def test_override_with_no_releases() -> None:
    assert validate_override("1.0.0", existing=[], minimum=Version(1, 0, 0)) == Version(1, 0, 0)
