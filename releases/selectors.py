"""Reads that pages need, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from releases.models import AuditEvent, Branch, BranchKind, Repository

KIND_ORDER = Case(
    When(kind=BranchKind.PRODUCTION, then=Value(0)),
    When(kind=BranchKind.DEVELOPMENT, then=Value(1)),
    When(kind=BranchKind.HOTFIX, then=Value(2)),
    When(kind=BranchKind.FEATURE, then=Value(3)),
    default=Value(4),
    output_field=IntegerField(),
)


def repository_list() -> QuerySet[Repository]:
    return Repository.objects.order_by("name")


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
    rows = list(
        Branch.objects.filter(repository=repository)
        .annotate(kind_order=KIND_ORDER)
        .order_by("kind_order", "-committed_at", "name")
    )
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
    """What `repo status --json` prints: the repository and every branch."""
    board = branch_board(repository=repository)
    return {
        "repository": {
            "name": repository.name,
            "origin": repository.origin,
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
                "gone": b.is_gone,
            }
            for b in [*board.branches, *board.gone]
        ],
    }
