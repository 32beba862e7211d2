"""What a repository's history says about its releases, read with a fixed number of git calls.

`read_history` turns the tags, the production line and the development line of a cache
clone into plain facts (no database here): the releases, the tags that are not
releases, the detected tag style, where production stands against its latest release,
the next version with its changelog, and the back-port ledger. The sync service writes
them in the same transaction as the branches.

Git is asked at most twelve times per sync, whatever the number of tags and commits:
for-each-ref of the tags (plus one cat-file batch when a tag points at a tag), the tags
merged into production, one rev-list count, one log for the next version, one log for
the changelogs of newly seen releases, one cherry-marked log for the back-ports, one
grep of development for cherry-pick trailers and, only for items still open after
those, four calls that compare their patch ids with development's commits. What is
left is linear work on their output: attributing commits to the first release that
contains them walks a parent map that git printed once.

Decisions the issue left open:
- A tag that names a tree or a blob, or whose object is missing, is not a release; it
  is listed with the not-semver tags, with the reason.
- Releases whose tag is not reachable from production have no changelog: their commits
  were never shipped in order, so "since the previous release" has no meaning.
- A release's changelog is computed once, when it is first seen: the commits reachable
  from it and from no release recorded before it, each given to the lowest version
  that contains it.
- The next version is the bump applied to the latest release on production; if some
  release off production already holds that version or more, the bump is applied to
  the highest existing release instead, so the proposal is always new. No release at
  all: the range is what development has that production lacks, and the version 1.0.0.
- The back-port ledger leaves every merge commit out: a merge carries no change of its
  own (its second parent's commits are the items), so a hotfix merge and a promotion
  merge alike would otherwise stay open forever.
- Empty commits all share git's empty patch id, so an empty commit on production is
  resolved by any empty commit among those development has and production lacks.
- A resolved item stays resolved in the database even if a later sync would no longer
  see why (histories only grow here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from semver import Version

from releases import versioning
from releases.git import GitRepo, LogCommit, TagRef


@dataclass
class ReleaseFact:
    version: str
    tag: str
    tags: list[str]
    commit: str
    tagger_name: str
    tagger_email: str
    tagged_at: datetime | None
    on_production: bool
    changelog: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class BackportFact:
    commit: str
    subject: str
    author_name: str
    committed_at: datetime | None
    release_version: str | None
    resolved_how: str = ""  # "", "patch-id" or "cherry-pick"
    resolved_by_commit: str = ""


@dataclass
class HistoryFacts:
    releases: dict[str, ReleaseFact]
    not_semver_tags: list[dict[str, str]]
    tag_style: str | None  # None: no semver tag to learn it from
    production_head: str
    latest_version: str | None
    commits_past_latest: int
    next_version: str
    next_bump: str
    next_changelog: list[dict[str, Any]]
    backports: list[BackportFact]
    # Tag -> "" (signed by an allowed signer) or why not; only the tags that were checked
    # (releases.sync fills it where the repository requires signed tags).
    tag_signatures: dict[str, str] = field(default_factory=dict)
    # Patch ids this read computed (commit -> id, "" for a commit with no patch), for the
    # caller to keep: a commit's patch id never changes.
    learned_patch_ids: dict[str, str] = field(default_factory=dict)


def read_history(
    repo: GitRepo,
    *,
    production: str,
    development: str,
    production_head: str,
    development_head: str,
    known_release_commits: Mapping[str, str],
    no_release_types: frozenset[str] = versioning.NO_RELEASE_TYPES,
    known_patch_ids: Callable[[], Mapping[str, str]] = dict,
) -> HistoryFacts:
    """Every release fact of the clone; `known_release_commits` (version -> commit) are
    the releases already recorded on production, whose changelogs are not recomputed;
    `known_patch_ids` loads the patch ids computed before (called only when needed)."""
    tags = repo.tags()
    commit_tags = {t.name: t for t in tags if t.target_type == "commit"}
    ignored = [
        {"tag": t.name, "reason": _not_a_commit(t)} for t in tags if t.target_type != "commit"
    ]
    has_semver = any(
        isinstance(versioning.parse_version_tag(name), versioning.ParsedTag) for name in commit_tags
    )
    style = versioning.detect_tag_style(commit_tags) if has_semver else None
    groups, refused = versioning.group_tags(
        commit_tags,
        style=style,
        created={name: t.tagged_at for name, t in commit_tags.items() if t.tagged_at},
    )
    ignored += [{"tag": r.tag, "reason": r.reason} for r in refused]
    ignored.sort(key=lambda item: item["tag"])

    merged = repo.tags_merged_into(production) if groups else set()
    releases: dict[str, ReleaseFact] = {}
    for group in groups:  # lowest version first
        primary = commit_tags[group.primary.tag]
        releases[group.version_str] = ReleaseFact(
            version=group.version_str,
            tag=primary.name,
            tags=list(group.tag_names),
            commit=primary.target,
            tagger_name=primary.tagger_name,
            tagger_email=primary.tagger_email,
            tagged_at=primary.tagged_at,
            on_production=primary.name in merged,
        )
    on_production = [fact for fact in releases.values() if fact.on_production]
    latest = on_production[-1] if on_production else None

    commits_past = 0
    if latest is not None and latest.commit != production_head:
        commits_past = repo.count_commits(latest.commit, production_head)

    _attach_changelogs(repo, on_production, known_release_commits)
    next_version, bump, changelog = _next_version(
        repo,
        releases,
        latest,
        production_head=production_head,
        development_head=development_head,
        no_release_types=no_release_types,
    )
    patch_ids = PatchIds(known_patch_ids)
    backports = _backports(repo, development, production, on_production, patch_ids)
    return HistoryFacts(
        learned_patch_ids=patch_ids.learned,
        releases=releases,
        not_semver_tags=ignored,
        tag_style=style,
        production_head=production_head,
        latest_version=latest.version if latest else None,
        commits_past_latest=commits_past,
        next_version=next_version,
        next_bump=bump,
        next_changelog=changelog,
        backports=backports,
    )


def _not_a_commit(tag: TagRef) -> str:
    if not tag.target_type:
        return "the object it names is missing"
    return f"names a {tag.target_type}, not a commit"


def commit_infos(commits: Iterable[LogCommit]) -> list[versioning.CommitInfo]:
    return [
        versioning.CommitInfo(
            sha=c.sha,
            subject=c.subject,
            body=c.body,
            author_name=c.author_name,
            author_email=c.author_email,
            committed_at=c.committed_at,  # type: ignore[arg-type]
            is_merge=c.is_merge,
        )
        for c in commits
    ]


def first_release_containing(
    parents: Mapping[str, Sequence[str]], heads: Sequence[tuple[str, str]]
) -> dict[str, str]:
    """Commit -> the first of `heads` ((key, commit), lowest version first) containing it.

    `parents` is the part of the graph to consider; a walk stops at commits outside it
    and at commits an earlier head already took (their ancestors were taken too), so
    each commit is visited once.
    """
    owner: dict[str, str] = {}
    for key, head in heads:
        stack = [head] if head in parents and head not in owner else []
        while stack:
            sha = stack.pop()
            if sha in owner:
                continue
            owner[sha] = key
            stack.extend(p for p in parents[sha] if p in parents and p not in owner)
    return owner


def _attach_changelogs(
    repo: GitRepo, on_production: list[ReleaseFact], known: Mapping[str, str]
) -> None:
    new = [fact for fact in on_production if fact.version not in known]
    if not new:
        return
    excluded = sorted(set(known.values()))
    exclusions = ["--not", *excluded] if excluded else []
    commits = repo.log(*sorted({f.commit for f in new}), *exclusions)
    owner = first_release_containing(
        {c.sha: c.parents for c in commits}, [(f.version, f.commit) for f in new]
    )
    shipped: dict[str, list[LogCommit]] = {}
    for commit in commits:
        if commit.sha in owner:
            shipped.setdefault(owner[commit.sha], []).append(commit)
    for fact in new:
        fact.changelog = versioning.build_changelog(
            commit_infos(shipped.get(fact.version, []))
        ).to_list()


def _next_version(
    repo: GitRepo,
    releases: Mapping[str, ReleaseFact],
    latest: ReleaseFact | None,
    *,
    production_head: str,
    development_head: str,
    no_release_types: frozenset[str],
) -> tuple[str, str, list[dict[str, Any]]]:
    base = latest.commit if latest else production_head
    infos = commit_infos(repo.log(f"{base}..{development_head}"))
    bump = versioning.bump_for(infos, no_release=no_release_types)
    if bump is None:
        return "", "", []
    latest_version = Version.parse(latest.version) if latest else None
    proposal = versioning.next_version(latest_version, bump)
    highest = max((Version.parse(v) for v in releases), default=None)
    if highest is not None and proposal <= highest:
        proposal = versioning.next_version(highest, bump)
    # The bump counts every commit since the release; the changelog lists only what is
    # not on production yet (views-models: 169 commits, not the 544 since 0.2.1, of
    # which 375 are on production untagged).
    if base != production_head:
        infos = commit_infos(repo.log(f"{production_head}..{development_head}"))
    return str(proposal), bump, versioning.build_changelog(infos).to_list()


@dataclass
class PatchIds:
    """`git patch-id --stable` of commits, each computed once: `load` gives those known
    from earlier reads, `learned` collects those computed now."""

    load: Callable[[], Mapping[str, str]]
    learned: dict[str, str] = field(default_factory=dict)

    def of(self, repo: GitRepo, shas: list[str]) -> dict[str, str]:
        known = self.load()
        missing = list(dict.fromkeys(sha for sha in shas if sha not in known))
        self.learned.update(repo.patch_ids_of(missing))
        return {sha: known.get(sha, self.learned.get(sha, "")) for sha in shas}


def _backports(
    repo: GitRepo,
    development: str,
    production: str,
    on_production: list[ReleaseFact],
    patch_ids: PatchIds,
) -> list[BackportFact]:
    lacking = repo.cherry_marked(development, production)
    items = [c for c in lacking if not c.is_merge]
    if not items:
        return []
    picked: dict[str, str] = {}  # named sha (maybe abbreviated) -> the commit naming it
    if any(c.mark != "=" for c in items):
        for commit in repo.cherry_pick_trailers(development):
            for sha in versioning.cherry_picked_from(commit.body):
                picked.setdefault(sha, commit.sha)
    owner = first_release_containing(
        {c.sha: c.parents for c in lacking}, [(f.version, f.commit) for f in on_production]
    )
    resolution: dict[str, tuple[str, str]] = {}
    for commit in items:
        if commit.mark == "=":
            resolution[commit.sha] = ("patch-id", "")
            continue
        by = next((picker for sha, picker in picked.items() if commit.sha.startswith(sha)), "")
        if by:
            resolution[commit.sha] = ("cherry-pick", by)
    unresolved = [c for c in items if c.sha not in resolution]
    if unresolved:
        resolution.update(_equal_patches_on_development(repo, development, unresolved, patch_ids))
    facts = []
    for commit in items:
        how, by = resolution.get(commit.sha, ("", ""))
        facts.append(
            BackportFact(
                commit=commit.sha,
                subject=versioning.classify(commit.subject, "", False).subject,
                author_name=commit.author_name,
                committed_at=commit.committed_at,
                release_version=owner.get(commit.sha),
                resolved_how=how,
                resolved_by_commit=by,
            )
        )
    return facts


def _equal_patches_on_development(
    repo: GitRepo, development: str, items: list[LogCommit], patch_ids: PatchIds
) -> dict[str, tuple[str, str]]:
    """Items with an equal patch anywhere on development.

    --cherry-mark only looks at what development has and production lacks, so a port
    that has since been promoted to production escapes it. Any commit on development
    with an equal patch counts (that is the rule). Each commit's patch id is computed
    once and kept (`patch_ids`): the first sync diffs every non-merge commit of
    development, later ones only the commits development gained, so a re-sync costs a
    `rev-list` and a lookup, not a `git log -p` of the whole branch.
    """
    on_branch = repo.run("rev-list", "--no-merges", f"refs/heads/{development}").split()
    ids = patch_ids.of(repo, [c.sha for c in items] + on_branch)
    on_development: dict[str, str] = {}
    for sha in on_branch:  # newest first: the newest twin names the port
        if ids[sha]:
            on_development.setdefault(ids[sha], sha)
    found = {}
    for commit in items:
        twin = on_development.get(ids[commit.sha]) if ids[commit.sha] else None
        if twin:
            found[commit.sha] = ("patch-id", twin)
    return found
