import functools

from hypothesis import given, settings
from hypothesis import strategies as st
from semver import Version

from releases.versioning import ParsedTag, format_tag, group_tags, next_version, parse_version_tag

numbers = st.integers(min_value=0, max_value=30)
identifier = st.one_of(
    st.integers(min_value=0, max_value=20).map(str),
    st.sampled_from(["alpha", "beta", "rc", "x-1", "0a", "pre"]),
)
dotted = st.lists(identifier, min_size=1, max_size=3).map(".".join)
versions = st.builds(
    Version,
    major=numbers,
    minor=numbers,
    patch=numbers,
    prerelease=st.none() | dotted,
    build=st.none() | dotted,
)
tags = st.builds(format_tag, versions, st.sampled_from(["v", ""]))


@settings(max_examples=300, deadline=None)
@given(st.lists(tags, max_size=25))
def test_group_order_agrees_with_semver_compare(names: list[str]) -> None:
    groups, refused = group_tags(names)
    assert refused == []
    ordered = [g.version for g in groups]
    for low, high in zip(ordered, ordered[1:], strict=False):
        assert low.compare(high) < 0
    reference = sorted(
        {Version.parse(n.removeprefix("v")).replace(build=None) for n in names},
        key=functools.cmp_to_key(Version.compare),
    )
    assert [str(v) for v in ordered] == [str(v) for v in reference]
    assert sum(len(g.tags) for g in groups) == len(set(names))


@settings(max_examples=300, deadline=None)
@given(versions, st.sampled_from(["v", ""]))
def test_format_and_parse_round_trip(version: Version, style: str) -> None:
    parsed = parse_version_tag(format_tag(version, style))
    assert isinstance(parsed, ParsedTag)
    assert parsed.prefix == style and str(parsed.version) == str(version)


@settings(max_examples=500, deadline=None)
@given(st.none() | versions, st.sampled_from(["major", "minor", "patch"]))
def test_next_version_exceeds_latest(latest: Version | None, bump: str) -> None:
    result = next_version(latest, bump)  # type: ignore[arg-type]
    assert result.prerelease is None and result.build is None
    if latest is not None:
        assert result.compare(latest) > 0
