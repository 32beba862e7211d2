"""Release versioning rules: semver tags, conventional commits, bumps and changelogs.

Pure Python on purpose: no Django and no git here, so sync and promotion share one set of
rules that can be tested with plain strings. The caller reads git and passes text in.

Decisions that the design leaves open (kept here so the code and the rules do not drift):

Tags
- A tag is ``MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`` (strict SemVer 2.0.0) with an optional
  lowercase ``v``. ``V1.2.3`` is refused: ewsdash only ever writes ``v`` or nothing, and a
  third spelling would make style detection and duplicate handling ambiguous. Nothing is
  stripped (no whitespace trimming, no ``refs/tags/``): the caller passes short tag names.
- Tags with the same precedence (build metadata ignored, as SemVer says) are one release:
  ``1.2.0``, ``v1.2.0`` and ``v1.2.0+build.7`` all group under ``1.2.0``. The group's version
  drops build metadata so that a release's identity does not depend on which tag is primary.
- Primary tag of a group: the tag in the repository's style, then one without build
  metadata, then the older one (only when the caller gives creation times), then the
  smaller tag name, so the choice never depends on input order.
- Tag style: the majority prefix among the ``recent`` highest-precedence semver tags
  (precedence stands in for age because versions only grow); a tie, or no semver tag at
  all, gives ``"v"``.

Commits
- Conventional types are case-insensitive and stored lowercase; ``fix(): x`` (empty scope)
  is conventional with no scope; ``fix:x`` (no space) and ``fixup! ...`` are not.
- ``BREAKING CHANGE`` must be uppercase and start its line (an indented one is quoted text).
- A subject is normalised to one line (whitespace runs collapsed, control characters
  replaced with U+FFFD) before anything else; the JSON changelog keeps it otherwise intact,
  so HTML escaping is the template's job.
- ``(cherry picked from commit <sha>)`` is read only on a line of its own (surrounding
  blanks allowed), 7 to 64 hex digits, any case; shas come back lowercase, deduplicated.

Bumps
- Merge commits never count and never appear in the changelog; the commits they merged are
  passed by the caller as ordinary commits. Only non-merge commits count, so a range made
  only of merges yields no bump (``None``): there is nothing to release.
- A ``BREAKING CHANGE:`` / ``BREAKING-CHANGE:`` footer counts even when the subject is not
  conventional: it is an explicit, uppercase statement nobody writes by accident.
- ``Revert "..."`` subjects are not conventional (so ``Revert "feat!: x"`` is a patch, not a
  major) and are flagged ``is_revert``.
- No release yet gives ``1.0.0`` whatever the bump: the production branch is what runs
  operationally, which is what SemVer calls 1.0.0. Releases in ``0.y.z`` get no special
  treatment: a breaking change goes to ``1.0.0``.
- After a pre-release the next version first finalises it when the bump fits inside it:
  ``2.0.0-rc.1`` + minor -> ``2.0.0`` (2.0.0 has not shipped and already outranks a minor),
  ``1.3.0-rc.1`` + patch -> ``1.3.0``, ``1.2.3-rc.1`` + minor -> ``1.3.0``.
- An override may repeat the proposed version (it is then simply the proposal), must not
  carry build metadata (it would not be distinguishable from the same version without it),
  may carry a leading ``v`` and surrounding blanks, and may be a pre-release as long as it is
  high enough. "Exceeds every existing release" compares by precedence.

Changelog
- A breaking commit appears only under Breaking, not also under its type's group.
- Entries keep the caller's order within each group (normally ``git log`` order).
- An entry's ``subject`` is the conventional description (without ``type(scope)!:``), or the
  whole subject; ``author`` is the author name, or the email when the name is empty.
- Descriptions are made single-line and control characters are replaced, so a hostile
  subject cannot break the tag message layout or a terminal; ``as_markdown`` also escapes
  markdown/HTML punctuation and shortens very long lines.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from semver import Version

__all__ = [
    "BUMPS",
    "GROUPS",
    "Bump",
    "Changelog",
    "ChangelogEntry",
    "CommitInfo",
    "ConventionalCommit",
    "NotSemver",
    "ParsedTag",
    "TagGroup",
    "VersionError",
    "build_changelog",
    "bump_for",
    "cherry_picked_from",
    "classify",
    "detect_tag_style",
    "format_tag",
    "group_tags",
    "looks_like_merge",
    "next_version",
    "parse_commit_message",
    "parse_version_tag",
    "ref_too_long",
    "validate_override",
]

Bump = Literal["major", "minor", "patch"]
BUMPS: tuple[Bump, ...] = ("major", "minor", "patch")
TAG_STYLES = ("v", "")
DEFAULT_STYLE = "v"
GROUPS = ("Breaking", "Features", "Fixes", "Other")
SHORT_SHA = 8
MARKDOWN_LINE_LIMIT = 200


class VersionError(ValueError):
    """A version a person proposed cannot be used; the message says why."""


# --------------------------------------------------------------------------------------
# Tags


@dataclass(frozen=True, slots=True)
class ParsedTag:
    version: Version
    prefix: str
    tag: str

    @property
    def has_build(self) -> bool:
        return self.version.build is not None


@dataclass(frozen=True, slots=True)
class NotSemver:
    tag: str
    reason: str


_SEMVER_FORM = "expected [v]MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]"


def parse_version_tag(tag: str) -> ParsedTag | NotSemver:
    """Parse a tag name as a strict semantic version, with or without a ``v`` prefix."""
    problem = _obvious_problem(tag)
    if problem:
        return NotSemver(tag, problem)
    prefix = "v" if tag.startswith("v") else ""
    text = tag[len(prefix) :]
    try:
        version = Version.parse(text)
    except ValueError:
        return NotSemver(tag, _explain(text))
    return ParsedTag(version=version, prefix=prefix, tag=tag)


# Ref names are text columns; past this many bytes a name would no longer fit the
# database's unique indexes (PostgreSQL's b-tree entries stop near 2.7 kB), so such a
# tag or branch is refused with this reason instead of failing a sync.
MAX_REF_BYTES = 1000


def ref_too_long(name: str) -> str | None:
    """The reason a ref name is refused for its length, or None."""
    size = len(name.encode("utf-8", errors="surrogateescape"))
    return f"longer than {MAX_REF_BYTES} bytes ({size})" if size > MAX_REF_BYTES else None


def _obvious_problem(tag: str) -> str | None:
    if not tag:
        return "empty tag"
    if too_long := ref_too_long(tag):
        return too_long
    if not tag.isascii():
        return "contains non-ASCII characters"
    if any(ch.isspace() for ch in tag):
        return "contains whitespace"
    if tag[0] == "V" and tag[1:2].isdigit():
        return "uppercase 'V' prefix; only 'v' or no prefix is accepted"
    return None


def _explain(text: str) -> str:
    core = re.split(r"[-+]", text, maxsplit=1)[0]
    parts = core.split(".")
    if not all(part.isdigit() for part in parts):
        return f"not a semantic version ({_SEMVER_FORM})"
    if len(parts) < 3:
        return f"incomplete version: {len(parts)} numeric part(s), needs MAJOR.MINOR.PATCH"
    if len(parts) > 3:
        return f"{len(parts)} numeric parts; a semantic version has exactly three"
    if any(len(part) > 1 and part.startswith("0") for part in parts):
        return "leading zero in a numeric part"
    return "invalid pre-release or build metadata (empty part, bad character or leading zero)"


def format_tag(version: Version | str, style: str) -> str:
    """The tag name for ``version`` in the repository's tag style (``"v"`` or ``""``)."""
    if style not in TAG_STYLES:
        raise ValueError(f"tag style must be 'v' or '', not {style!r}")
    parsed = version if isinstance(version, Version) else Version.parse(version)
    return f"{style}{parsed}"


def _semver_tags(tags: Iterable[str]) -> list[ParsedTag]:
    return [p for p in map(parse_version_tag, tags) if isinstance(p, ParsedTag)]


def detect_tag_style(tags: Iterable[str], *, recent: int = 10) -> str:
    """The prefix most used by the ``recent`` highest semver tags; ties go to ``"v"``."""
    parsed = sorted(_semver_tags(tags), key=lambda p: (p.version, p.tag), reverse=True)
    counts = Counter(p.prefix for p in parsed[: max(recent, 1)])
    return "" if counts[""] > counts["v"] else DEFAULT_STYLE


@dataclass(frozen=True, slots=True)
class TagGroup:
    """One release: a version (without build metadata) and every tag that names it."""

    version: Version
    tags: tuple[ParsedTag, ...]  # primary first

    @property
    def primary(self) -> ParsedTag:
        return self.tags[0]

    @property
    def version_str(self) -> str:
        return str(self.version)

    @property
    def tag_names(self) -> tuple[str, ...]:
        return tuple(p.tag for p in self.tags)


def group_tags(
    tags: Iterable[str],
    *,
    style: str | None = None,
    created: Mapping[str, datetime] | None = None,
) -> tuple[list[TagGroup], list[NotSemver]]:
    """Split tags into releases sorted by precedence (lowest first) and refused tags.

    ``style`` defaults to the detected style; ``created`` (tag name -> time) lets the
    older of two equivalent tags win the primary slot.
    """
    names = sorted(set(tags))
    style = detect_tag_style(names) if style is None else style
    by_version: dict[Version, list[ParsedTag]] = {}
    refused: list[NotSemver] = []
    for name in names:
        parsed = parse_version_tag(name)
        if isinstance(parsed, NotSemver):
            refused.append(parsed)
            continue
        by_version.setdefault(parsed.version.replace(build=None), []).append(parsed)

    def primary_key(p: ParsedTag) -> tuple[bool, bool, float, str]:
        when = (created or {}).get(p.tag)
        age = when.timestamp() if when else float("inf")
        return (p.prefix != style, p.has_build, age, p.tag)

    groups = [
        TagGroup(version=version, tags=tuple(sorted(members, key=primary_key)))
        for version, members in by_version.items()
    ]
    groups.sort(key=lambda g: g.version)
    return groups, refused


# --------------------------------------------------------------------------------------
# Commits


@dataclass(frozen=True, slots=True)
class CommitInfo:
    sha: str
    subject: str
    body: str
    author_name: str
    author_email: str
    committed_at: datetime
    is_merge: bool = False


@dataclass(frozen=True, slots=True)
class ConventionalCommit:
    subject: str  # normalised to one line
    type: str | None  # lowercase; None when not conventional
    scope: str | None
    breaking: bool
    description: str  # the text after "type(scope)!: ", or the whole subject
    is_conventional: bool
    is_revert: bool
    looks_like_merge: bool  # the subject reads like git's or a forge's merge subject
    is_merge: bool  # the caller's parent count when known, else looks_like_merge


# Spec: a noun, optional (scope), optional "!", then ": " and a description.
_HEADER = re.compile(
    r"(?P<type>[A-Za-z][A-Za-z0-9_-]*)"
    r"(?:\((?P<scope>[^()]*)\))?"
    r"(?P<bang>!)?"
    r": +(?P<description>\S.*)"
)
# Footer tokens are case-sensitive for BREAKING CHANGE (spec item 15/16).
_BREAKING_FOOTER = re.compile(r"^BREAKING[ -]CHANGE:(?:\s|$)", re.MULTILINE)
_REVERT = re.compile(r'Revert "')
_MERGE_SUBJECTS = re.compile(
    r"Merge (?:"
    r"branch(?:es)? '|remote-tracking branch '|remote branch '|tag '|commit '"
    r"|pull request #\d+ from |[0-9a-f]{7,64} into [0-9a-f]{7,64}"
    r")"
    r"|Merged in \S+ \(pull request #\d+\)"
    r"|Merged PR \d+:"
)


def _one_line(text: str) -> str:
    """Collapse whitespace (git already joins a multi-line subject) and neutralise controls."""
    flat = " ".join(text.split())
    return "".join("\ufffd" if unicodedata.category(ch) == "Cc" else ch for ch in flat)


def looks_like_merge(subject: str) -> bool:
    return _MERGE_SUBJECTS.match(_one_line(subject)) is not None


def parse_commit_message(subject: str, body: str = "") -> ConventionalCommit:
    """Read a commit message as a conventional commit; anything else is kept verbatim."""
    line = _one_line(subject)
    merge_like = looks_like_merge(line)
    footer_breaking = _BREAKING_FOOTER.search(body) is not None
    header = None if merge_like else _HEADER.fullmatch(line)
    if header is None:
        return ConventionalCommit(
            subject=line,
            type=None,
            scope=None,
            breaking=footer_breaking,
            description=line,
            is_conventional=False,
            is_revert=_REVERT.match(line) is not None,
            looks_like_merge=merge_like,
            is_merge=merge_like,
        )
    scope = (header["scope"] or "").strip() or None
    commit_type = header["type"].lower()
    return ConventionalCommit(
        subject=line,
        type=commit_type,
        scope=scope,
        breaking=bool(header["bang"]) or footer_breaking,
        description=header["description"].strip(),
        is_conventional=True,
        is_revert=commit_type == "revert",
        looks_like_merge=False,
        is_merge=False,
    )


def classify(subject: str, body: str, is_merge: bool) -> ConventionalCommit:
    """Like ``parse_commit_message`` but with the caller's parent count as the merge truth."""
    parsed = parse_commit_message(subject, body)
    # A single-parent commit with a merge-like subject (a squash, a rebased merge) is an
    # ordinary commit; a two-parent one is a merge whatever its subject says.
    return parsed if parsed.is_merge == is_merge else replace(parsed, is_merge=is_merge)


def _classified(commit: CommitInfo | ConventionalCommit) -> ConventionalCommit:
    if isinstance(commit, ConventionalCommit):
        return commit
    return classify(commit.subject, commit.body, commit.is_merge)


# Conventional-commit types that change nothing a user of the pipeline gets: on their own
# they need no release (settings.EWSDASH_NO_RELEASE_TYPES replaces this set).
NO_RELEASE_TYPES = frozenset({"docs", "chore", "ci", "test", "style"})


def _bump_of(commit: ConventionalCommit, no_release: frozenset[str]) -> Bump | None:
    if commit.breaking:
        return "major"
    if commit.type == "feat":
        return "minor"
    if commit.type in no_release:
        return None
    return "patch"


def bump_for(
    commits: Iterable[CommitInfo | ConventionalCommit],
    *,
    no_release: frozenset[str] = NO_RELEASE_TYPES,
) -> Bump | None:
    """The largest bump any non-merge commit asks for; ``None`` when there is none (no
    commit, or only `no_release` types such as docs: or chore:, unless breaking)."""
    bumps = {_bump_of(c, no_release) for c in map(_classified, commits) if not c.is_merge}
    return next((b for b in BUMPS if b in bumps), None)


# --------------------------------------------------------------------------------------
# Versions

FIRST_RELEASE = Version(1, 0, 0)
_BUMPERS = {"major": Version.bump_major, "minor": Version.bump_minor, "patch": Version.bump_patch}


def next_version(latest: Version | None, bump: Bump) -> Version:
    """The version after ``latest`` for ``bump`` (see the module notes for pre-releases)."""
    if bump not in BUMPS:
        raise ValueError(f"bump must be one of {', '.join(BUMPS)}, not {bump!r}")
    if latest is None:
        return FIRST_RELEASE
    base = latest.replace(build=None)
    if base.prerelease is not None and _prerelease_absorbs(base, bump):
        return base.finalize_version()
    return _BUMPERS[bump](base)


def _prerelease_absorbs(pre: Version, bump: Bump) -> bool:
    """Whether finalising the pre-release already gives at least the requested bump."""
    if bump == "major":
        return pre.minor == 0 and pre.patch == 0
    if bump == "minor":
        return pre.patch == 0
    return True


def validate_override(proposed: str, *, existing: Iterable[Version], minimum: Version) -> Version:
    """Accept a person's version override only if it is valid, upward and new."""
    parsed = parse_version_tag(proposed.strip())
    if isinstance(parsed, NotSemver):
        shown = proposed if len(proposed) <= 80 else proposed[:80] + "…"
        raise VersionError(f"{shown!r} is not a semantic version: {parsed.reason}")
    version = parsed.version
    if version.build is not None:
        raise VersionError(
            f"{proposed!r} carries build metadata; a release version may not "
            "(it would tie with the same version without it)"
        )
    if version < minimum:
        raise VersionError(
            f"{version} is lower than the proposed {minimum}; "
            "the version can only be overridden upward"
        )
    highest = max(existing, default=None)
    if highest is not None and version <= highest:
        raise VersionError(f"{version} does not exceed the existing release {highest}")
    return version


# --------------------------------------------------------------------------------------
# Changelog


@dataclass(frozen=True, slots=True)
class ChangelogEntry:
    group: str
    sha: str
    author: str
    type: str | None
    scope: str | None
    subject: str

    def to_dict(self) -> dict[str, str | None]:
        return {
            "group": self.group,
            "sha": self.sha,
            "author": self.author,
            "type": self.type,
            "scope": self.scope,
            "subject": self.subject,
        }


@dataclass(frozen=True, slots=True)
class Changelog:
    entries: tuple[ChangelogEntry, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def group(self, name: str) -> tuple[ChangelogEntry, ...]:
        return tuple(e for e in self.entries if e.group == name)

    def to_list(self) -> list[dict[str, str | None]]:
        return [e.to_dict() for e in self.entries]

    @classmethod
    def from_list(cls, items: Iterable[Mapping[str, Any]]) -> Changelog:
        """Rebuild a changelog stored with ``to_list`` (e.g. on a candidate row)."""
        entries = [
            ChangelogEntry(
                group=str(item["group"]),
                sha=str(item["sha"]),
                author=str(item["author"]),
                type=item.get("type"),
                scope=item.get("scope"),
                subject=str(item["subject"]),
            )
            for item in items
        ]
        return cls(entries=_in_group_order(entries))

    def as_markdown(self) -> str:
        if not self.entries:
            return "No changes.\n"
        sections = []
        for name in GROUPS:
            lines = [_markdown_line(e) for e in self.group(name)]
            if lines:
                sections.append(f"### {name}\n\n" + "\n".join(lines) + "\n")
        return "\n".join(sections)


_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]<>])")


def _md(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _markdown_line(entry: ChangelogEntry) -> str:
    subject = entry.subject
    if len(subject) > MARKDOWN_LINE_LIMIT:
        subject = subject[: MARKDOWN_LINE_LIMIT - 1] + "…"
    scope = f"**{_md(entry.scope)}**: " if entry.scope else ""
    return f"- {scope}{_md(subject)} ({entry.sha}, {_md(entry.author)})"


def _group_of(commit: ConventionalCommit) -> str:
    if commit.breaking:
        return "Breaking"
    if commit.type == "feat":
        return "Features"
    if commit.type in ("fix", "perf"):
        return "Fixes"
    return "Other"


def _in_group_order(entries: Iterable[ChangelogEntry]) -> tuple[ChangelogEntry, ...]:
    rank = {name: i for i, name in enumerate(GROUPS)}
    return tuple(sorted(entries, key=lambda e: rank.get(e.group, len(GROUPS))))


def build_changelog(commits: Iterable[CommitInfo]) -> Changelog:
    """Group the non-merge commits of a range into Breaking, Features, Fixes and Other."""
    entries = []
    for info in commits:
        commit = classify(info.subject, info.body, info.is_merge)
        if commit.is_merge:
            continue
        entries.append(
            ChangelogEntry(
                group=_group_of(commit),
                sha=info.sha[:SHORT_SHA],
                author=_one_line(info.author_name) or _one_line(info.author_email),
                type=commit.type,
                scope=commit.scope,
                subject=commit.description,
            )
        )
    return Changelog(entries=_in_group_order(entries))


# --------------------------------------------------------------------------------------
# Cherry-picks

# git -x writes the trailer on a line of its own; SHA-1 (40) and SHA-256 (64) repositories.
_CHERRY_PICK = re.compile(
    r"^[ \t]*\(cherry picked from commit ([0-9a-fA-F]{7,64})\)[ \t]*\r?$", re.MULTILINE
)


def cherry_picked_from(body: str) -> list[str]:
    """The commits a ``git cherry-pick -x`` trailer names, lowercase, first mention first."""
    seen: dict[str, None] = {}
    for match in _CHERRY_PICK.finditer(body):
        seen.setdefault(match.group(1).lower(), None)
    return list(seen)


# --------------------------------------------------------------------------------------
# Reading a long changelog

_BOT_AUTHOR = re.compile(r"\[bot\]|github-actions|dependabot|renovate", re.IGNORECASE)
_BOT_SUBJECT = re.compile(r"^(automated changes by github actions|update readme\.md)$", re.I)


def is_noise(entry: Mapping[str, Any]) -> bool:
    """A bot's commit ("Automated changes by GitHub Actions", a [bot] author) or a
    one-word subject that is not a conventional commit ("wip", "fix", "typo")."""
    subject = str(entry.get("subject") or "").strip()
    if _BOT_AUTHOR.search(str(entry.get("author") or "")) or _BOT_SUBJECT.match(subject):
        return True
    return not entry.get("type") and len(subject.split()) <= 1


@dataclass(frozen=True)
class ChangelogGroup:
    name: str
    shown: list[Mapping[str, Any]]
    more: list[Mapping[str, Any]]  # collapsed

    @property
    def total(self) -> int:
        return len(self.shown) + len(self.more)


def changelog_groups(
    entries: Iterable[Mapping[str, Any]], *, shown: int = 8
) -> tuple[list[ChangelogGroup], list[Mapping[str, Any]]]:
    """Groups in their order with at most `shown` entries open each, and the noise
    (bots, one-word subjects) set apart, folded by the page."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    noise: list[Mapping[str, Any]] = []
    for entry in entries:
        if is_noise(entry):
            noise.append(entry)
        else:
            groups.setdefault(str(entry.get("group") or "Other"), []).append(entry)
    return [
        ChangelogGroup(name, items[:shown], items[shown:]) for name, items in groups.items()
    ], noise
