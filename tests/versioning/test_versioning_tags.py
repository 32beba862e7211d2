import datetime as dt

import pytest
from semver import Version

from releases.versioning import (
    NotSemver,
    ParsedTag,
    detect_tag_style,
    format_tag,
    group_tags,
    parse_version_tag,
)


@pytest.mark.parametrize(
    ("tag", "prefix", "version"),
    [
        ("v1.2.3", "v", "1.2.3"),
        ("1.2.3", "", "1.2.3"),
        ("v0.0.0", "v", "0.0.0"),
        ("v1.0.0-rc.1", "v", "1.0.0-rc.1"),
        ("2.0.0+build.7", "", "2.0.0+build.7"),
        ("v1.0.0-alpha.1+sha.5114f85", "v", "1.0.0-alpha.1+sha.5114f85"),
        ("v10.20.30", "v", "10.20.30"),
    ],
)
def test_valid_tags_keep_prefix_prerelease_and_build(tag: str, prefix: str, version: str) -> None:
    parsed = parse_version_tag(tag)
    assert isinstance(parsed, ParsedTag)
    assert parsed.prefix == prefix
    assert parsed.tag == tag
    assert str(parsed.version) == version


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        ("", "empty"),
        ("v1.2", "incomplete"),
        ("1", "incomplete"),
        ("release-3", "not a semantic version"),
        ("1.0.0.0", "exactly three"),
        ("v01.2.3", "leading zero"),
        ("v1.02.3", "leading zero"),
        ("V1.2.3", "uppercase"),
        ("vv1.2.3", "not a semantic version"),
        ("v", "not a semantic version"),
        ("latest", "not a semantic version"),
        (" v1.2.3", "whitespace"),
        ("v1.2.3\n", "whitespace"),
        ("v١.2.3", "non-ASCII"),
        ("v1.0.0-rc.01", "pre-release"),
        ("v1.0.0-", "pre-release"),
        ("v1.0.0+", "pre-release"),
        ("v1.0.0-rc_1", "pre-release"),
    ],
)
def test_bad_tags_are_refused_with_a_plain_reason(tag: str, reason: str) -> None:
    parsed = parse_version_tag(tag)
    assert isinstance(parsed, NotSemver)
    assert parsed.tag == tag
    assert reason in parsed.reason


def test_prerelease_precedence() -> None:
    tags = ["v1.0.0", "v1.0.0-rc.1", "v1.0.0-beta", "v1.0.0-alpha.1", "v1.0.0-alpha"]
    groups, refused = group_tags(tags)
    assert refused == []
    assert [g.version_str for g in groups] == [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-beta",
        "1.0.0-rc.1",
        "1.0.0",
    ]


def test_numeric_not_lexical_ordering() -> None:
    groups, _ = group_tags(["v1.10.0", "v1.9.0", "v1.2.0", "v10.0.0", "v2.0.0"])
    assert [g.version_str for g in groups] == ["1.2.0", "1.9.0", "1.10.0", "2.0.0", "10.0.0"]


def test_same_version_under_two_tags_is_one_release() -> None:
    groups, refused = group_tags(["1.2.0", "v1.2.0", "v1.3.0", "v1.1.0", "nightly"])
    assert [g.version_str for g in groups] == ["1.1.0", "1.2.0", "1.3.0"]
    assert groups[1].tag_names == ("v1.2.0", "1.2.0")  # style "v" wins
    assert groups[1].primary.tag == "v1.2.0"
    assert [n.tag for n in refused] == ["nightly"]


def test_build_metadata_joins_the_release_without_it() -> None:
    groups, _ = group_tags(["v1.2.0+build.1", "v1.2.0", "v1.2.0+build.2"])
    assert len(groups) == 1
    group = groups[0]
    assert group.version_str == "1.2.0"
    assert group.primary.tag == "v1.2.0"
    assert group.tag_names == ("v1.2.0", "v1.2.0+build.1", "v1.2.0+build.2")


def test_primary_follows_repository_style_then_age() -> None:
    tags = ["1.0.0", "1.1.0", "2.0.0", "v2.0.0", "v3.0.0-rc.1", "3.0.0-rc.1"]
    assert detect_tag_style(tags) == ""
    groups, _ = group_tags(tags)
    assert groups[-2].primary.tag == "2.0.0"

    old = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    new = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    groups, _ = group_tags(
        ["v2.0.0+a", "v2.0.0+b"], style="v", created={"v2.0.0+a": new, "v2.0.0+b": old}
    )
    assert groups[0].primary.tag == "v2.0.0+b"


def test_primary_does_not_depend_on_input_order() -> None:
    tags = ["v1.2.0", "1.2.0", "1.2.0+x"]
    first, _ = group_tags(tags, style="v")
    second, _ = group_tags(list(reversed(tags)), style="v")
    assert first == second
    assert first[0].primary.tag == "v1.2.0"


def test_duplicate_input_tags_are_listed_once() -> None:
    groups, _ = group_tags(["v1.0.0", "v1.0.0"])
    assert groups[0].tag_names == ("v1.0.0",)


def test_empty_input() -> None:
    assert group_tags([]) == ([], [])
    assert detect_tag_style([]) == "v"
    assert detect_tag_style(["release-1", "latest"]) == "v"


def test_style_is_majority_of_recent_tags() -> None:
    history = [f"{minor}.0.0" for minor in range(1, 10)]  # old bare tags
    recent = [f"v{major}.0.0" for major in range(10, 16)]  # the repository switched to v
    assert detect_tag_style(history + recent, recent=10) == "v"
    assert detect_tag_style(history + recent, recent=50) == ""


def test_style_tie_goes_to_v() -> None:
    assert detect_tag_style(["1.0.0", "v2.0.0"]) == "v"
    assert detect_tag_style(["1.0.0", "2.0.0", "v3.0.0"]) == ""


def test_format_tag() -> None:
    assert format_tag(Version.parse("1.4.0"), "v") == "v1.4.0"
    assert format_tag(Version.parse("1.4.0-rc.1"), "") == "1.4.0-rc.1"
    assert format_tag("2.0.0", "v") == "v2.0.0"
    with pytest.raises(ValueError, match="tag style"):
        format_tag(Version.parse("1.0.0"), "V")


def test_format_then_parse_round_trips() -> None:
    for style in ("v", ""):
        tag = format_tag(Version.parse("3.1.4-beta.2+exp.sha.5114f85"), style)
        parsed = parse_version_tag(tag)
        assert isinstance(parsed, ParsedTag)
        assert (parsed.prefix, str(parsed.version)) == (style, "3.1.4-beta.2+exp.sha.5114f85")
