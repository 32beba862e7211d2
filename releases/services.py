"""Repository services: register a governed repository, change its settings, ask for a sync.

Each runs in one transaction with its audit event.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ewsdash import queue
from releases import git
from releases.access import require_permission
from releases.audit import audit_record
from releases.clones import clone_dir
from releases.errors import ActionRefused
from releases.models import AuditEvent, BackportItem, BackportResolution, Repository
from releases.sync import check_required_branches


def _validation_message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(
            f"{name}: {' '.join(messages)}" if name != "__all__" else " ".join(messages)
            for name, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def repository_create(
    *,
    actor: Any,
    name: str,
    origin: str,
    production_branch: str = "production",
    development_branch: str = "development",
    required_approvals: int = 2,
    authors_may_approve: bool = False,
    manifest_path: str = "ewsdash.toml",
    forge: str = "direct",
    forge_project: str = "",
    forge_token_env: str = "EWSDASH_GITHUB_TOKEN",
    production_protected: bool = False,
    forge_reviews_approve: bool = False,
    partial_clone: bool = False,
) -> Repository:
    """Register a governed repository: check the origin, clone it, save the row.

    Nothing is saved and no clone is left behind unless every step succeeds.
    """
    try:
        origin = git.check_origin(origin)
    except git.OriginError as error:
        raise ActionRefused(str(error)) from None
    repository = Repository(
        name=name,
        origin=origin,
        production_branch=production_branch,
        development_branch=development_branch,
        required_approvals=required_approvals,
        authors_may_approve=authors_may_approve,
        manifest_path=manifest_path,
        forge=forge,
        forge_project=forge_project,
        forge_token_env=forge_token_env,
        production_protected=production_protected,
        forge_reviews_approve=forge_reviews_approve,
        partial_clone=partial_clone,
    )
    try:
        repository.full_clean()
    except ValidationError as error:
        raise ActionRefused(_validation_message(error)) from None

    dest = clone_dir(name)
    with git.clone_lock(dest):
        try:
            repo = git.clone_bare(
                origin, dest, timeout=settings.EWSDASH_GIT_TIMEOUT, partial=partial_clone
            )
            check_required_branches(repository, {head.name for head in repo.branches()})
        except git.GitError as error:
            shutil.rmtree(dest, ignore_errors=True)
            raise ActionRefused(f"Cannot clone {repository.origin_display}: {error}") from None
        except ActionRefused:
            shutil.rmtree(dest, ignore_errors=True)
            raise
        try:
            with transaction.atomic():
                repository.save()
                audit_record(
                    actor=actor,
                    action="repository.registered",
                    obj=repository,
                    repository=repository,
                    payload={
                        "origin": repository.origin_display,
                        "production_branch": production_branch,
                        "development_branch": development_branch,
                        "required_approvals": required_approvals,
                        "partial_clone": partial_clone,
                    },
                )
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
    return repository


def repository_request_sync(
    *, repository: Repository, actor: Any, payload: dict[str, Any] | None = None
) -> None:
    """Someone asked for a sync (a person's "Sync now", an API call, a webhook, whose
    `actor` is a name such as "github webhook"): audit it and enqueue the sync once
    committed."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="repository.sync_requested",
            obj=repository,
            repository=repository,
            payload=payload,
        )
        queue.enqueue_on_commit(
            queue.REPOSITORY_SYNC,
            repository_id=repository.pk,
            actor_id=getattr(actor, "pk", None),
        )


SETTINGS_FIELDS = {
    "production_branch",
    "development_branch",
    "required_approvals",
    "authors_may_approve",
    "manifest_path",
    "tag_style",
    "forge",
    "forge_project",
    "forge_token_env",
    "production_protected",
    "forge_reviews_approve",
    "require_signed_commits",
    "require_signed_tags",
    "allowed_signers",
    "gpg_public_keys",
    "partial_clone",
    "sandbox_mounts",
    "sandbox_network",
    "sign_tags",
}


def repository_update_settings(*, actor: Any, repository: Repository, fields: list[str]) -> None:
    """Save governance settings changed in the admin, with their audit event."""
    changed = [name for name in fields if name in SETTINGS_FIELDS]
    try:
        repository.full_clean()
    except ValidationError as error:
        raise ActionRefused(_validation_message(error)) from None
    with transaction.atomic():
        repository.save(update_fields=changed or None)
        audit_record(
            actor=actor,
            action="repository.settings_changed",
            obj=repository,
            repository=repository,
            payload={name: getattr(repository, name) for name in changed},
        )


def repository_archive(*, actor: Any, repository: Repository, reason: str) -> None:
    """Archive a repository: its history stays, readable; nothing syncs or changes it again.

    Repositories are never deleted (the admin site offers this instead), so no history
    or audit trail is cascaded away.
    """
    require_permission(actor, "change_repository")
    if not reason.strip():
        raise ActionRefused("Archiving a repository needs a reason.")
    with transaction.atomic():
        locked = Repository.objects.select_for_update().get(pk=repository.pk)
        if locked.is_archived:
            raise ActionRefused(f"{locked.name} is already archived.")
        locked.archived_at = timezone.now()
        locked.archive_reason = reason.strip()
        locked.save(update_fields=["archived_at", "archive_reason"])
        audit_record(
            actor=actor,
            action="repository.archived",
            obj=locked,
            repository=locked,
            payload={"reason": locked.archive_reason},
        )
    repository.archived_at, repository.archive_reason = locked.archived_at, locked.archive_reason


def backport_wont(*, repository: Repository, item_id: int, actor: Any, reason: str) -> BackportItem:
    """Take a production commit off the back-port ledger on purpose, with a reason.

    For a change that must stay on production only (views-stepshifter pins
    views-pipeline-core back to 2.x on main): it leaves the open items, is shown apart
    with who decided and why, and is audited. Release managers and admins (the
    permission to merge production into development).
    """
    require_permission(actor, "merge_production")
    reason = reason.strip()
    if not reason:
        raise ActionRefused("Say why development does not take this commit.")
    with transaction.atomic():
        item = (
            BackportItem.objects.select_for_update()
            .filter(repository=repository, pk=item_id)
            .first()
        )
        if item is None:
            raise ActionRefused("There is no such back-port item.")
        if not item.is_open:
            raise ActionRefused(
                f"{item.commit[:10]} is no longer waiting: {item.get_resolved_how_display()}."
            )
        item.resolved_at = timezone.now()
        item.resolved_how = BackportResolution.WONT
        item.reason = reason[:2000]
        item.decided_by = actor
        item.save(update_fields=["resolved_at", "resolved_how", "reason", "decided_by"])
        audit_record(
            actor=actor,
            action="backport.wont",
            obj=item,
            repository=repository,
            payload={"commit": item.commit, "subject": item.subject[:200], "reason": item.reason},
        )
    return item


def backports_flag_overdue(*, now: datetime | None = None) -> int:
    """Record `backport.overdue` once for every open back-port item that has waited longer
    than BackportItem.STALE_AFTER_DAYS (since its release, else its commit), so the people
    who can merge it into development hear of it. Returns how many were flagged."""
    limit = (now or timezone.now()) - timedelta(days=BackportItem.STALE_AFTER_DAYS)
    released_long_ago = Q(release__tagged_at__lt=limit)
    unreleased_long_ago = Q(release__tagged_at=None, committed_at__lt=limit)
    overdue = BackportItem.objects.filter(
        released_long_ago | unreleased_long_ago,
        resolved_at=None,
        repository__archived_at=None,
    )
    flagged = 0
    for item_id in overdue.values_list("pk", flat=True):
        with transaction.atomic():
            item = (
                BackportItem.objects.select_for_update(of=("self",))
                .select_related("repository", "release")
                .filter(pk=item_id, resolved_at=None)
                .first()
            )
            already = AuditEvent.objects.filter(
                action="backport.overdue",
                object_type=BackportItem._meta.label,
                object_id=str(item_id),
            ).exists()
            if item is None or already:
                continue
            audit_record(
                actor=None,
                action="backport.overdue",
                obj=item,
                repository=item.repository,
                payload={
                    "commit": item.commit,
                    "subject": item.subject[:200],
                    "release": item.release.version if item.release else None,
                    "since": item.pending_since,
                    "days": BackportItem.STALE_AFTER_DAYS,
                },
            )
            flagged += 1
    return flagged
