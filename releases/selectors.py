"""Reads that pages need, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from semver import Version

from releases.incidents import incident_as_json
from releases.models import (
    AuditEvent,
    BackportItem,
    BackportResolution,
    Branch,
    BranchKind,
    FreezeWindow,
    Incident,
    Release,
    ReleaseKind,
    ReleaseLine,
    Repository,
)

KIND_ORDER = Case(
    When(kind=BranchKind.PRODUCTION, then=Value(0)),
    When(kind=BranchKind.DEVELOPMENT, then=Value(1)),
    When(kind=BranchKind.HOTFIX, then=Value(2)),
    When(kind=BranchKind.RELEASE, then=Value(3)),
    When(kind=BranchKind.FEATURE, then=Value(4)),
    When(kind=BranchKind.FIX, then=Value(5)),
    When(kind=BranchKind.OTHER, then=Value(7)),
    default=Value(6),
    output_field=IntegerField(),
)


def repository_list() -> QuerySet[Repository]:
    return Repository.objects.filter(archived_at__isnull=True).order_by("name")


@dataclass(frozen=True)
class BranchBoard:
    production: Branch | None
    development: Branch | None
    branches: list[Branch]
    gone: list[Branch]

    @property
    def development_behind_production(self) -> int | None:
        return self.development.behind_production if self.development else None


def branch_board(*, repository: Repository) -> BranchBoard:
    """Production vs development first, then live branches, then gone ones (one query)."""
    rows: list[Branch] = list(
        Branch.objects.filter(repository=repository)
        .annotate(kind_order=KIND_ORDER)
        .order_by("kind_order", "-committed_at", "name")
    )
    for row in rows:
        row.repository = repository  # for merged_target, without a query per branch
    live = [b for b in rows if not b.is_gone]
    return BranchBoard(
        production=next((b for b in live if b.kind == BranchKind.PRODUCTION), None),
        development=next((b for b in live if b.kind == BranchKind.DEVELOPMENT), None),
        branches=live,
        gone=[b for b in rows if b.is_gone],
    )


def audit_events(
    *,
    repository: str = "",
    action: str = "",
    actor: str = "",
    query: str = "",
) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.order_by("-seq")
    if repository:
        events = events.filter(repository_name=repository)
    if action:
        events = events.filter(Q(action=action) | Q(action__startswith=f"{action}."))
    if actor:
        events = events.filter(actor_name=actor)
    if query:
        events = events.filter(Q(object_repr__icontains=query) | Q(action__icontains=query))
    return events


def audit_action_names() -> list[str]:
    # order_by() on the column itself: the default ordering would join `seq` into DISTINCT.
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())


def _iso(value: object) -> str | None:
    return value.isoformat() if value is not None else None  # type: ignore[attr-defined]


def repository_status(*, repository: Repository) -> dict:
    """What `repo status --json` prints: the repository, its branches and releases."""
    board = branch_board(repository=repository)
    releases = release_board(repository=repository)
    ledger = backport_ledger(repository=repository)
    line = releases.line
    return {
        "incidents": [
            incident_as_json(i)
            for i in Incident.objects.filter(repository=repository)
            .select_related("acknowledged_by")
            .order_by("opened_at")
        ],
        "repository": {
            "name": repository.name,
            "origin": repository.origin_display,
            "production_branch": repository.production_branch,
            "development_branch": repository.development_branch,
            "required_approvals": repository.required_approvals,
            "authors_may_approve": repository.authors_may_approve,
            "manifest_path": repository.manifest_path,
            "tag_style": repository.tag_style,
            "last_synced_at": _iso(repository.last_synced_at),
            "last_sync_error": repository.last_sync_error,
            "development_behind_production": board.development_behind_production,
        },
        "branches": [
            {
                "name": b.name,
                "kind": b.kind,
                "head": b.head,
                "author": b.author_name,
                "author_email": b.author_email,
                "committed_at": _iso(b.committed_at),
                "subject": b.subject,
                "ahead_of_production": b.ahead_of_production,
                "behind_production": b.behind_production,
                "ahead_of_development": b.ahead_of_development,
                "behind_development": b.behind_development,
                "merged": b.is_merged,
                "merged_by": b.how_merged or None,
                "merged_into": b.merged_target or None,
                "gone": b.is_gone,
            }
            for b in [*board.branches, *board.gone]
        ],
        "releases": [
            {
                "version": r.version,
                "tag": r.tag,
                "tags": r.tags,
                "commit": r.commit,
                "kind": r.kind,
                "on_production": r.on_production,
                "live": r.pk == releases.live_id,
                "tagged_at": _iso(r.tagged_at),
                "tag_state": r.tag_state,
                "origin_commit": r.origin_commit,
            }
            for r in releases.releases
        ],
        "not_semver_tags": [
            {"tag": item["tag"], "reason": item.get("reason", "")}
            for item in releases.not_semver_tags
        ],
        # null where nothing exists: no release yet means no count past it.
        "production_line": {
            "head": (line.production_head or None) if line else None,
            "latest_release": releases.live.version if releases.live else None,
            "commits_past_latest": line.commits_past_latest if line and releases.live else None,
        },
        "backports": [
            {
                "commit": row.item.commit,
                "subject": row.item.subject,
                "release": row.item.release.version if row.item.release else None,
                "pending_since": _iso(row.since),
                "stale": row.stale,
            }
            for row in ledger.open
        ],
        "next_version": {
            "version": (line.next_version or None) if line else None,
            "tag": (releases.next_tag or None) if line and line.next_version else None,
            "bump": (line.next_bump or None) if line else None,
            "changelog": line.next_changelog if line else [],
        },
    }


def _semver_key(release: Release) -> tuple[int, Version | str]:
    # Stored versions always parse; a hand-edited one sorts last instead of failing.
    try:
        return (1, Version.parse(release.version))
    except ValueError:
        return (0, release.version)


@dataclass(frozen=True)
class ReleaseBoard:
    releases: list[Release]  # newest (highest precedence) first
    line: ReleaseLine | None

    @property
    def live_id(self) -> int | None:
        return self.line.latest_release_id if self.line else None

    @property
    def live(self) -> Release | None:
        return next((r for r in self.releases if r.pk == self.live_id), None)

    @property
    def not_semver_tags(self) -> list[dict[str, str]]:
        return self.line.not_semver_tags if self.line else []

    @property
    def next_tag(self) -> str:
        if not self.line or not self.line.next_version:
            return ""
        return f"{self.line.repository.tag_style}{self.line.next_version}"


def release_board(*, repository: Repository) -> ReleaseBoard:
    """Every release in semver order, newest first, and the release line (two queries)."""
    releases = sorted(
        Release.objects.filter(repository=repository).select_related(
            "released_by", "restores", "rolls_back"
        ),
        key=_semver_key,
        reverse=True,
    )
    line = ReleaseLine.objects.filter(repository=repository).first()
    if line is not None:
        line.repository = repository  # for next_tag, without a query
    return ReleaseBoard(releases=releases, line=line)


@dataclass(frozen=True)
class ReleaseDetail:
    release: Release
    board: ReleaseBoard
    backports: list[BackportItem]

    @property
    def is_live(self) -> bool:
        return self.release.pk == self.board.live_id


def release_detail(*, repository: Repository, version: str) -> ReleaseDetail:
    """One release by version (a leading v is accepted) or 404, in three queries."""
    version = version.removeprefix("v")
    release = (
        Release.objects.filter(repository=repository, version=version)
        .select_related(
            "released_by",
            "candidate",
            "candidate__validation_run",
            "restores",
            "rolls_back",
            "rolled_back_by",
            "attestation__bundle",
        )
        .first()
    )
    if release is None:
        raise Http404(f"No release {version} in {repository.name}")
    line = ReleaseLine.objects.filter(repository=repository).first()
    if line is not None:
        line.repository = repository
    backports = list(release.backport_items.order_by("committed_at"))
    return ReleaseDetail(
        release=release, board=ReleaseBoard(releases=[release], line=line), backports=backports
    )


@dataclass(frozen=True)
class BackportRow:
    item: BackportItem
    since: datetime | None
    age: timedelta | None
    stale: bool


@dataclass(frozen=True)
class BackportLedger:
    open: list[BackportRow]  # by release, then oldest first
    wont: list[BackportItem] = field(default_factory=list)  # decided, newest first

    @property
    def stale_count(self) -> int:
        return sum(row.stale for row in self.open)

    @property
    def pending_rollbacks(self) -> list[Release]:
        """Rollback releases on production that development has not merged yet."""
        seen: dict[int, Release] = {}
        for row in self.open:
            release = row.item.release
            if release is not None and release.kind == ReleaseKind.ROLLBACK:
                seen.setdefault(release.pk, release)
        return list(seen.values())


def backport_ledger(*, repository: Repository, now: datetime | None = None) -> BackportLedger:
    """Open back-port items with their age; stale after BackportItem.STALE_AFTER_DAYS."""
    now = now or timezone.now()
    limit = timedelta(days=BackportItem.STALE_AFTER_DAYS)
    items = BackportItem.objects.filter(repository=repository, resolved_at=None).select_related(
        "release", "release__rolls_back", "release__restores"
    )
    rows = []
    for item in items:
        since = item.pending_since
        age = now - since if since else None
        rows.append(BackportRow(item=item, since=since, age=age, stale=bool(age and age > limit)))
    rows.sort(
        key=lambda row: (
            _semver_key(row.item.release) if row.item.release else (2, ""),
            row.item.committed_at or now,
        )
    )
    wont = list(
        BackportItem.objects.filter(repository=repository, resolved_how=BackportResolution.WONT)
        .select_related("decided_by")
        .order_by("-resolved_at")[:50]
    )
    return BackportLedger(open=rows, wont=wont)


def freezes_current(*, repository: Repository) -> list[FreezeWindow]:
    """Active and planned freeze windows, soonest first."""
    return list(
        FreezeWindow.objects.filter(repository=repository, ends_at__gt=timezone.now())
        .select_related("created_by")
        .order_by("starts_at")
    )
