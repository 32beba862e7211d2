"""Sync: read the origin and record what it shows, in one transaction per sync.

A sync fetches into the cache clone, reads every branch with its divergence, the tags
and the production line (`releases.lineage`), and the facts about open candidates, all
under the clone's file lock; then, with the lock released, it writes branches, releases,
the release line, the back-port ledger and the candidates' facts in one transaction with
its audit events (git first, the database second: see `releases.clones`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ewsdash import queue
from releases import git, lineage, versioning
from releases.audit import audit_record
from releases.clones import clone_dir, clone_session
from releases.errors import ActionRefused
from releases.incidents import incident_open, incidents_detect_production
from releases.models import (
    BackportItem,
    BackportResolution,
    Branch,
    BranchKind,
    IncidentKind,
    PatchId,
    PromotionCandidate,
    Release,
    ReleaseKind,
    ReleaseLine,
    Repository,
    TagState,
)
from releases.workflow import OPEN, S, approvals_void, candidate_transition, gates_changed


def check_required_branches(repository: Repository, names: set[str]) -> None:
    """Refuse an origin that lacks commits or the production or development branch."""
    if not names:
        raise ActionRefused(f"The origin {repository.origin_display} has no commits.")
    missing = [
        branch
        for branch in (repository.production_branch, repository.development_branch)
        if branch not in names
    ]
    if missing:
        raise ActionRefused(
            f"The origin has no branch {' and no branch '.join(repr(m) for m in missing)} "
            f"(it has: {', '.join(sorted(names)[:10])})."
        )


def branch_kind(repository: Repository, name: str) -> str:
    if name == repository.production_branch:
        return BranchKind.PRODUCTION
    if name == repository.development_branch:
        return BranchKind.DEVELOPMENT
    return kind_by_prefix(name)


def kind_by_prefix(name: str) -> str:
    """The kind whose longest prefix (settings.EWSDASH_BRANCH_PREFIXES) starts `name`."""
    best, kind = "", str(BranchKind.OTHER)
    for candidate, prefixes in settings.EWSDASH_BRANCH_PREFIXES.items():
        for prefix in prefixes:
            if name.startswith(prefix) and len(prefix) > len(best):
                best, kind = prefix, candidate
    return kind


@dataclass
class SyncOutcome:
    repository: Repository
    changed: bool = False
    error: str = ""
    added: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    releases_added: list[str] = field(default_factory=list)
    tags_changed: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if self.error:
            return f"Sync of {self.repository.name} failed: {self.error}"
        if not self.changed:
            return f"{self.repository.name} is up to date."
        text = (
            f"Synced {self.repository.name}: {len(self.added)} new, {len(self.moved)} moved, "
            f"{len(self.gone)} gone."
        )
        if self.releases_added:
            text += f" {len(self.releases_added)} new release(s)."
        if self.tags_changed:
            text += f" Tags changed at the origin: {', '.join(self.tags_changed)}."
        return text


@dataclass(frozen=True)
class CandidateFacts:
    """What git says about one open candidate, read under the clone lock."""

    candidate_id: int
    commit: str
    on_branch: bool  # the frozen commit is still on its source branch
    branch_moved_by: int
    production_head: str
    contains_production_head: bool


@dataclass
class OriginFacts:
    """Everything one sync read from git, before it writes anything."""

    digest: str
    branches: dict[str, dict[str, Any]]
    refused: list[dict[str, str]]
    history: lineage.HistoryFacts
    candidates: list[CandidateFacts]


def repository_sync(
    *, repository: Repository, actor: Any = None, force: bool = False
) -> SyncOutcome:
    """Fetch the origin and record every branch with its divergence.

    An origin whose ref listing is unchanged since the last sync costs one
    `ls-remote` and no fetch. On any failure the branches stay as they were
    and the error is kept on the repository row.
    """
    outcome = SyncOutcome(repository=repository)
    # The caller's object may be stale; the stored digest decides "unchanged".
    repository.refresh_from_db()
    try:
        facts = _read_origin(repository, force=force)
    except (git.GitError, ActionRefused) as error:
        outcome.error = str(error)
        _record_sync_error(repository, outcome.error, actor)
        return outcome
    if facts is None:
        now = timezone.now()
        Repository.objects.filter(pk=repository.pk).update(
            last_synced_at=now, last_sync_attempt_at=now, last_sync_error=""
        )
        repository.last_sync_error = ""
        return outcome
    _save_facts(repository, facts, outcome, actor)
    repository.refresh_from_db()
    return outcome


def _read_origin(repository: Repository, *, force: bool) -> OriginFacts | None:
    """Fetch and read every fact the sync records; None when the origin did not change."""
    rebuilt = not clone_dir(repository.name).exists()  # a fresh clone fetched everything
    with clone_session(repository) as repo:
        digest = repo.ls_remote_digest()
        if digest == repository.refs_digest and not (force or rebuilt):
            return None
        if not rebuilt:
            repo.fetch()
        heads, refused = _acceptable_branches(repo.branches())
        check_required_branches(repository, {head.name for head in heads})
        history = _history_facts(repository, repo, heads)
        patch_ids_keep(repository, history.learned_patch_ids)
        history.tag_signatures = _tag_signatures(repository, repo, history)
        return OriginFacts(
            digest=digest,
            refused=refused,
            branches=_branch_facts(repository, repo, heads),
            history=history,
            candidates=_candidate_facts(repository, repo, {h.name: h.head for h in heads}),
        )


def _tag_signatures(
    repository: Repository, repo: git.GitRepo, history: lineage.HistoryFacts
) -> dict[str, str]:
    """Where the repository requires signed tags: `git verify-tag` of every release tag
    ewsdash did not make itself (imported, pushed outside it), against its SSH and GPG
    signers. ewsdash's own tags are vouched for by the audit log instead."""
    if not repository.require_signed_tags:
        return {}
    ours = set(
        Release.objects.filter(repository=repository)
        .exclude(kind=ReleaseKind.IMPORTED)
        .values_list("tag", flat=True)
    )
    tags = sorted({fact.tag for fact in history.releases.values()} - ours)
    try:
        return git.tag_signatures(repo, tags, signers=signers_of(repository))
    except git.GitError as error:  # unusable keys: every tag says so, the sync goes on
        return {tag: f"not checked: {error}" for tag in tags}


def signers_of(repository: Repository) -> git.Signers:
    return git.Signers(ssh=repository.allowed_signers, gpg=repository.gpg_public_keys)


def _acceptable_branches(
    heads: list[git.BranchHead],
) -> tuple[list[git.BranchHead], list[dict[str, str]]]:
    """Branches a sync records, and those it leaves out with the reason (shown on the
    Branches page): a name too long for the database's indexes."""
    kept, refused = [], []
    for head in heads:
        reason = versioning.ref_too_long(head.name)
        if reason:
            refused.append({"ref": head.name, "reason": f"branch name {reason}"})
        else:
            kept.append(head)
    return kept, refused


def _record_sync_error(repository: Repository, message: str, actor: Any) -> None:
    with transaction.atomic():
        locked = Repository.objects.select_for_update().get(pk=repository.pk)
        locked.last_sync_attempt_at = timezone.now()
        locked.save(update_fields=["last_sync_attempt_at"])
        if locked.last_sync_error != message:
            locked.last_sync_error = message
            locked.save(update_fields=["last_sync_error"])
            audit_record(
                actor=actor,
                action="repository.sync_failed",
                obj=locked,
                repository=locked,
                payload={"error": message},
            )
    repository.last_sync_error = message


def _candidate_facts(
    repository: Repository, repo: git.GitRepo, heads: dict[str, str]
) -> list[CandidateFacts]:
    """Open candidates: is the frozen commit still on its branch, how far did the branch
    move, does it contain production's head."""
    production = heads.get(repository.production_branch, "")
    facts = []
    open_candidates = (
        PromotionCandidate.objects.filter(repository=repository, status__in=OPEN)
        .exclude(status=S.PROMOTING)
        .values_list("pk", "commit", "source_branch")
    )
    for pk, commit, source_branch in open_candidates:
        branch_head = heads.get(source_branch)
        on_branch = branch_head is not None and git.is_ancestor(repo, commit, branch_head)
        moved = int(repo.run("rev-list", "--count", f"{commit}..{branch_head}")) if on_branch else 0
        facts.append(
            CandidateFacts(
                candidate_id=pk,
                commit=commit,
                on_branch=on_branch,
                branch_moved_by=moved,
                production_head=production,
                contains_production_head=bool(production)
                and git.is_ancestor(repo, production, commit),
            )
        )
    return facts


def _branch_facts(
    repository: Repository, repo: git.GitRepo, heads: list[git.BranchHead]
) -> dict[str, dict[str, Any]]:
    """Field values for every branch; divergence reused when no head involved moved."""
    by_name = {head.name: head for head in heads}
    production = by_name[repository.production_branch].head
    development = by_name[repository.development_branch].head
    known = {b.name: b for b in Branch.objects.filter(repository=repository)}
    old_production = getattr(known.get(repository.production_branch), "head", None)
    old_development = getattr(known.get(repository.development_branch), "head", None)
    bases_moved = (old_production, old_development) != (production, development)

    def reusable(head: git.BranchHead) -> bool:
        previous = known.get(head.name)
        return bool(
            previous and previous.head == head.head and not bases_moved and not previous.is_gone
        )

    # Every count git must make, asked for at once so they can run side by side.
    pairs = sorted(
        {
            (base, head.head)
            for head in heads
            if not reusable(head)
            for base in (production, development)
            if head.head != base
        }
    )
    counted = dict(
        zip(pairs, repo.divergences(pairs, workers=settings.EWSDASH_GIT_WORKERS), strict=True)
    )
    facts = {}
    for head in heads:
        previous = known.get(head.name)
        if previous and reusable(head):
            counts = {
                "ahead_of_production": previous.ahead_of_production,
                "behind_production": previous.behind_production,
                "ahead_of_development": previous.ahead_of_development,
                "behind_development": previous.behind_development,
                "behind_only_by_release_merges": previous.behind_only_by_release_merges,
                "merged_by": previous.merged_by,
                "merged_into": previous.merged_into,
                "merge_checked": previous.merge_checked,
            }
        else:
            ahead_p, behind_p = counted.get((production, head.head), (0, 0))
            ahead_d, behind_d = counted.get((development, head.head), (0, 0))
            counts = {
                "ahead_of_production": ahead_p,
                "behind_production": behind_p,
                "ahead_of_development": ahead_d,
                "behind_development": behind_d,
                "behind_only_by_release_merges": head.name == repository.development_branch
                and behind_p > 0
                and git.lacks_only_release_merges(repo, head.head, production),
                # What releases/merges.py found stays while the branch's own head does
                # not move; it re-checks on its own after this sync.
                **(
                    {
                        "merged_by": previous.merged_by,
                        "merged_into": previous.merged_into,
                        "merge_checked": previous.merge_checked,
                    }
                    if previous and previous.head == head.head
                    else {"merged_by": "", "merged_into": "", "merge_checked": ""}
                ),
            }
        facts[head.name] = {
            "kind": branch_kind(repository, head.name),
            "head": head.head,
            "author_name": head.author_name,
            "author_email": head.author_email,
            "committed_at": head.committed_at,
            "subject": head.subject,
            **counts,
        }
    return facts


def _history_facts(
    repository: Repository, repo: git.GitRepo, heads: list[git.BranchHead]
) -> lineage.HistoryFacts:
    by_name = {head.name: head.head for head in heads}
    shipped = Release.objects.filter(repository=repository, on_production=True)
    return lineage.read_history(
        repo,
        production=repository.production_branch,
        development=repository.development_branch,
        production_head=by_name[repository.production_branch],
        development_head=by_name[repository.development_branch],
        known_release_commits=dict(shipped.values_list("version", "commit")),
        no_release_types=settings.EWSDASH_NO_RELEASE_TYPES,
        known_patch_ids=lambda: dict(
            PatchId.objects.filter(repository=repository).values_list("commit", "patch_id")
        ),
    )


def patch_ids_keep(repository: Repository, learned: dict[str, str]) -> None:
    """Store the patch ids a read computed (a cache outside the sync's transaction: a
    commit's patch id is true whatever the sync decides)."""
    PatchId.objects.bulk_create(
        [PatchId(repository=repository, commit=sha, patch_id=pid) for sha, pid in learned.items()],
        batch_size=1000,
        ignore_conflicts=True,
    )


def _save_facts(
    repository: Repository, origin: OriginFacts, outcome: SyncOutcome, actor: Any
) -> None:
    """Write what `_read_origin` found, in one transaction (repository row, then candidates)."""
    facts, digest, history = origin.branches, origin.digest, origin.history
    now = timezone.now()
    with transaction.atomic():
        locked = Repository.objects.select_for_update().get(pk=repository.pk)
        existing = {b.name: b for b in Branch.objects.filter(repository=locked)}
        to_create, to_update = [], []
        for name, values in facts.items():
            branch = existing.get(name)
            if branch is None:
                to_create.append(Branch(repository=locked, name=name, **values))
                outcome.added.append(name)
                continue
            if branch.head != values["head"] or branch.is_gone:
                outcome.moved.append(name)
            changed = branch.is_gone or any(getattr(branch, k) != v for k, v in values.items())
            if changed:
                for key, value in values.items():
                    setattr(branch, key, value)
                branch.gone_at = None
                branch.updated_at = now
                to_update.append(branch)
        for name, branch in existing.items():
            if name not in facts and not branch.is_gone:
                branch.gone_at = now
                branch.updated_at = now
                to_update.append(branch)
                outcome.gone.append(name)
        Branch.objects.bulk_create(to_create, batch_size=500)
        Branch.objects.bulk_update(
            to_update,
            [*next(iter(facts.values())).keys(), "gone_at", "updated_at"],
            batch_size=500,
        )
        locked.refs_digest = digest
        locked.last_synced_at = now
        locked.last_sync_attempt_at = now
        locked.last_sync_error = ""
        locked.refused_refs = origin.refused
        locked.save(
            update_fields=[
                "refused_refs",
                "refs_digest",
                "last_synced_at",
                "last_sync_attempt_at",
                "last_sync_error",
            ]
        )
        release_record_history(repository=locked, history=history, actor=actor, outcome=outcome)
        outcome.changed = bool(
            outcome.added
            or outcome.moved
            or outcome.gone
            or outcome.releases_added
            or outcome.tags_changed
        )
        if outcome.changed:
            audit_record(
                actor=actor,
                action="repository.synced",
                obj=locked,
                repository=locked,
                payload={
                    "new": sorted(outcome.added)[:100],
                    "moved": sorted(outcome.moved)[:100],
                    "gone": sorted(outcome.gone)[:100],
                },
            )
        candidates_refresh(repository=locked, facts=origin.candidates)
        if outcome.changed:
            # Which models a new release or a moved head carries takes git reads per
            # commit: a worker does it after the sync, so the sync itself stays a constant
            # number of calls. Releases ewsdash made (promotion, rollback) are among them:
            # their forced sync sees production move.
            queue.enqueue_on_commit(queue.DEPLOYMENT_CONFIGS_RECORD, repository_id=locked.pk)
            # Squash-merge detection costs up to ~200 ms a branch: after the sync, too.
            queue.enqueue_on_commit(queue.BRANCH_MERGES_RECORD, repository_id=locked.pk)
    outcome.repository = locked


def candidates_refresh(*, repository: Repository, facts: list[CandidateFacts]) -> None:
    """Open candidates learn how far their branch moved, or that history was rewritten.

    Runs inside the sync's transaction. A candidate whose frozen commit is no longer on
    its source branch (history rewritten at the origin) is superseded. A candidate that
    changed state since git was read (promoting, ended) is left alone.
    """
    for fact in facts:
        candidate = (
            PromotionCandidate.objects.select_for_update()
            .filter(pk=fact.candidate_id, status__in=OPEN)
            .exclude(status=S.PROMOTING)
            .first()
        )
        if candidate is None:
            continue
        candidate.repository = repository
        if not fact.on_branch:
            approvals_void(candidate, "frozen commit left the source branch")
            candidate_transition(
                candidate,
                S.SUPERSEDED,
                actor=None,
                action="candidate.superseded",
                reason=f"Its commit {candidate.commit[:10]} is no longer on "
                f"{candidate.source_branch} (history rewritten at the origin).",
            )
            continue
        changed = []
        if fact.branch_moved_by != candidate.branch_moved_by:
            candidate.branch_moved_by = fact.branch_moved_by
            changed.append("branch_moved_by")
        if fact.production_head and fact.production_head != candidate.checked_production_head:
            candidate.checked_production_head = fact.production_head
            candidate.contains_production_head = fact.contains_production_head
            changed += ["checked_production_head", "contains_production_head"]
        if changed:
            candidate.save(update_fields=[*changed, "updated_at"])
        if "checked_production_head" in changed:
            gates_changed(candidate)  # the "contains production's head" gate was re-judged


# -- releases, the production line and the back-port ledger -----------------------------
# Written by every sync that fetched, inside the sync's transaction, from the facts
# `releases.lineage` read with git.


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("release services must run inside the sync's transaction")


def release_record_history(
    *, repository: Repository, history: lineage.HistoryFacts, actor: Any, outcome: SyncOutcome
) -> None:
    """Record releases, the production line, the tag style and back-ports from `history`.

    The caller holds the repository row lock and the transaction (the sync's), so the
    audit events below commit exactly with the rows they describe.
    """
    _require_transaction()
    releases = release_record_tags(
        repository=repository, history=history, actor=actor, outcome=outcome
    )
    latest = releases.get(history.latest_version or "")
    previous_head = (
        ReleaseLine.objects.filter(repository=repository)
        .values_list("production_head", flat=True)
        .first()
    )
    incidents_detect_production(
        repository=repository,
        previous_head=previous_head or "",
        head=history.production_head,
        actor=actor,
    )
    ReleaseLine.objects.update_or_create(
        repository=repository,
        defaults={
            "production_head": history.production_head,
            "latest_release": latest,
            "commits_past_latest": history.commits_past_latest,
            "next_version": history.next_version,
            "next_bump": history.next_bump,
            "next_changelog": history.next_changelog,
            "not_semver_tags": history.not_semver_tags,
            "computed_at": timezone.now(),
        },
    )
    if history.tag_style is not None and history.tag_style != repository.tag_style:
        previous = repository.tag_style
        repository.tag_style = history.tag_style
        repository.save(update_fields=["tag_style"])
        audit_record(
            actor=actor,
            action="repository.tag_style_detected",
            obj=repository,
            repository=repository,
            payload={"from": previous, "to": history.tag_style},
        )
    backports_record(repository=repository, history=history, releases=releases, actor=actor)


def _signature_fields(history: lineage.HistoryFacts, tag: str, now: Any) -> dict[str, Any]:
    """The release's signature columns from this sync's check of `tag` (none if unchecked)."""
    if tag not in history.tag_signatures:
        return {}
    return {"signature_checked_at": now, "signature_problem": history.tag_signatures[tag]}


def release_record_tags(
    *, repository: Repository, history: lineage.HistoryFacts, actor: Any, outcome: SyncOutcome
) -> dict[str, Release]:
    """Create a release for every new version; flag tags moved or deleted at the origin.

    A recorded release's commit is never rewritten: what it was released as stays on
    record, and where its tag points now is kept beside it.
    """
    _require_transaction()
    now = timezone.now()
    existing = {r.version: r for r in Release.objects.filter(repository=repository)}
    created, updated, flagged = [], [], []
    signatures: dict[str, str] = {}  # tag -> problem ("" = verified), where the result changed
    for version, fact in history.releases.items():
        release = existing.get(version)
        if release is None:
            signed = _signature_fields(history, fact.tag, now)
            if signed:
                signatures[fact.tag] = signed["signature_problem"]
            created.append(
                Release(
                    **signed,
                    repository=repository,
                    version=version,
                    tag=fact.tag,
                    tags=fact.tags,
                    commit=fact.commit,
                    kind=ReleaseKind.IMPORTED,
                    tagger_name=fact.tagger_name[:255],
                    tagger_email=fact.tagger_email[:255],
                    tagged_at=fact.tagged_at,
                    changelog=fact.changelog,
                    on_production=fact.on_production,
                )
            )
            continue
        before = (
            release.tag,
            release.tags,
            release.on_production,
            release.tag_state,
            release.origin_commit,
            release.changelog,
            release.signature_problem,
            release.signature_checked_at is None,
        )
        checked = _signature_fields(history, fact.tag, now)
        if checked and (
            release.signature_checked_at is None
            or release.signature_problem != checked["signature_problem"]
        ):
            signatures[fact.tag] = checked["signature_problem"]
        for name, value in checked.items():
            setattr(release, name, value)
        release.tag, release.tags = fact.tag, fact.tags
        if fact.commit == release.commit:
            if release.tag_state != TagState.OK:
                flagged.append((release, "release.tag_restored", fact.commit))
            release.tag_state, release.origin_commit = TagState.OK, ""
            if fact.on_production and not release.on_production and not release.changelog:
                release.changelog = fact.changelog
            release.on_production = fact.on_production
        elif release.tag_state != TagState.MOVED or release.origin_commit != fact.commit:
            # Where the moved tag points says nothing about the recorded commit, so
            # `on_production` keeps its last known value.
            release.tag_state, release.origin_commit = TagState.MOVED, fact.commit
            flagged.append((release, "release.tag_moved", fact.commit))
        if before != (
            release.tag,
            release.tags,
            release.on_production,
            release.tag_state,
            release.origin_commit,
            release.changelog,
            release.signature_problem,
            release.signature_checked_at is None,
        ):
            updated.append(release)
    for version, release in existing.items():
        if version not in history.releases and release.tag_state != TagState.DELETED:
            release.tag_state, release.origin_commit = TagState.DELETED, ""
            flagged.append((release, "release.tag_deleted", ""))
            updated.append(release)

    Release.objects.bulk_create(created, batch_size=500)
    for release, _action, _commit in flagged:
        release.tag_changed_at = now
    if updated:
        Release.objects.bulk_update(
            updated,
            [
                "tag",
                "tags",
                "on_production",
                "tag_state",
                "origin_commit",
                "changelog",
                "tag_changed_at",
                "signature_checked_at",
                "signature_problem",
                "updated_at",
            ],
            batch_size=500,
        )
    for release, action, commit in flagged:
        if action != "release.tag_restored":
            incident_open(
                repository=repository,
                kind=IncidentKind.RELEASE_TAG_DELETED
                if action.endswith("deleted")
                else IncidentKind.RELEASE_TAG_MOVED,
                ref=f"refs/tags/{release.tag}",
                commit=commit or "",
                previous_commit=release.commit,
                detail=f"{release.tag} was released as {release.commit[:10]}; "
                + (f"the origin's tag now names {commit[:10]}." if commit else "it is gone."),
                actor=actor,
            )
        audit_record(
            actor=actor,
            action=action,
            obj=release,
            repository=repository,
            payload={
                "version": release.version,
                "tag": release.tag,
                "recorded_commit": release.commit,
                "origin_commit": commit,
            },
        )
        outcome.tags_changed.append(f"{release.tag} {action.rsplit('_', 1)[-1]}")
    if signatures:
        audit_record(
            actor=actor,
            action="release.tag_signatures",
            obj=repository,
            repository=repository,
            payload={
                "verified": sorted(tag for tag, problem in signatures.items() if not problem),
                "problems": {tag: problem for tag, problem in signatures.items() if problem},
            },
        )
    if created:
        versions = [r.version for r in created]
        outcome.releases_added.extend(versions)
        audit_record(
            actor=actor,
            action="release.imported",
            obj=repository,
            repository=repository,
            payload={"count": len(versions), "versions": versions[-100:]},
        )
    # Rows made by bulk_create may lack their ids on some databases: read them back.
    return {r.version: r for r in Release.objects.filter(repository=repository)}


def backports_record(
    *,
    repository: Repository,
    history: lineage.HistoryFacts,
    releases: dict[str, Release],
    actor: Any,
) -> None:
    """Open an item for each production commit development lacks; resolve the rest.

    An item that no longer appears is contained in development by ancestry now
    (production only grows). A resolved item stays resolved: git's patch-id
    comparison cannot see an equal patch once it reached production too.
    """
    _require_transaction()
    now = timezone.now()
    existing = {i.commit: i for i in BackportItem.objects.filter(repository=repository)}
    seen = set()
    created, updated, resolved = [], [], []
    for fact in history.backports:
        seen.add(fact.commit)
        release = releases.get(fact.release_version or "")
        item = existing.get(fact.commit)
        if item is None:
            item = BackportItem(
                repository=repository,
                commit=fact.commit,
                subject=fact.subject,
                author_name=fact.author_name[:255],
                committed_at=fact.committed_at,
                release=release,
            )
            created.append(item)
        elif item.release_id != getattr(release, "pk", None) and release is not None:
            item.release = release
            updated.append(item)
        if item.is_open and fact.resolved_how:
            item.resolved_at = now
            item.resolved_how = fact.resolved_how
            item.resolved_by_commit = fact.resolved_by_commit
            resolved.append(fact.commit)
            if item.pk and item not in updated:
                updated.append(item)
    for commit, item in existing.items():
        if commit not in seen and item.is_open:
            item.resolved_at = now
            item.resolved_how = BackportResolution.ANCESTRY
            updated.append(item)
            resolved.append(commit)
    BackportItem.objects.bulk_create(created, batch_size=500)
    opened = [item.commit for item in created if item.is_open]
    if updated:
        BackportItem.objects.bulk_update(
            updated,
            ["release", "resolved_at", "resolved_how", "resolved_by_commit"],
            batch_size=500,
        )
    if opened or resolved:
        audit_record(
            actor=actor,
            action="backports.changed",
            obj=repository,
            repository=repository,
            payload={"opened": opened[:100], "resolved": resolved[:100]},
        )
