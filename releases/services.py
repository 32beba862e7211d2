"""Every state change of the releases app, each in one transaction with its audit event."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from releases import git
from releases.audit import audit_record
from releases.errors import ActionRefused
from releases.models import Branch, BranchKind, Repository


def clone_dir(repository_name: str) -> Path:
    return Path(settings.EWSDASH_CLONES_DIR) / f"{repository_name}.git"


def _validation_message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(
            f"{name}: {' '.join(messages)}" if name != "__all__" else " ".join(messages)
            for name, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def _check_required_branches(repository: Repository, names: set[str]) -> None:
    if not names:
        raise ActionRefused(f"The origin {repository.origin} has no commits.")
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
    )
    try:
        repository.full_clean()
    except ValidationError as error:
        raise ActionRefused(_validation_message(error)) from None

    dest = clone_dir(name)
    with git.clone_lock(dest):
        try:
            repo = git.clone_bare(origin, dest, timeout=settings.EWSDASH_GIT_TIMEOUT)
            _check_required_branches(repository, {head.name for head in repo.branches()})
        except git.GitError as error:
            shutil.rmtree(dest, ignore_errors=True)
            raise ActionRefused(f"Cannot clone {origin}: {error}") from None
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
                        "origin": origin,
                        "production_branch": production_branch,
                        "development_branch": development_branch,
                        "required_approvals": required_approvals,
                    },
                )
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
    return repository


def branch_kind(repository: Repository, name: str) -> str:
    if name == repository.production_branch:
        return BranchKind.PRODUCTION
    if name == repository.development_branch:
        return BranchKind.DEVELOPMENT
    if name.startswith("feature/"):
        return BranchKind.FEATURE
    if name.startswith("hotfix/"):
        return BranchKind.HOTFIX
    return BranchKind.OTHER


@dataclass
class SyncOutcome:
    repository: Repository
    changed: bool = False
    error: str = ""
    added: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if self.error:
            return f"Sync of {self.repository.name} failed: {self.error}"
        if not self.changed:
            return f"{self.repository.name} is up to date."
        return (
            f"Synced {self.repository.name}: {len(self.added)} new, {len(self.moved)} moved, "
            f"{len(self.gone)} gone."
        )


def _open_clone(repository: Repository) -> tuple[git.GitRepo, bool]:
    """The repository's cache clone, rebuilt from the origin if it is missing."""
    path = clone_dir(repository.name)
    if path.exists():
        return git.GitRepo(path, timeout=settings.EWSDASH_GIT_TIMEOUT), False
    return git.clone_bare(repository.origin, path, timeout=settings.EWSDASH_GIT_TIMEOUT), True


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


def repository_sync(
    *, repository: Repository, actor: Any = None, force: bool = False
) -> SyncOutcome:
    """Fetch the origin and record every branch with its divergence.

    An origin whose ref listing is unchanged since the last sync costs one
    `ls-remote` and no fetch. On any failure the branches stay as they were
    and the error is kept on the repository row.
    """
    outcome = SyncOutcome(repository=repository)
    path = clone_dir(repository.name)
    with git.clone_lock(path):
        # The caller's object may be stale; the stored digest decides "unchanged".
        repository.refresh_from_db()
        try:
            repo, rebuilt = _open_clone(repository)
            digest = repo.ls_remote_digest()
            if digest == repository.refs_digest and not (force or rebuilt):
                now = timezone.now()
                Repository.objects.filter(pk=repository.pk).update(
                    last_synced_at=now, last_sync_attempt_at=now, last_sync_error=""
                )
                repository.last_sync_error = ""
                return outcome
            if not rebuilt:
                repo.fetch()
            heads = repo.branches()
            _check_required_branches(repository, {head.name for head in heads})
            facts = _branch_facts(repository, repo, heads)
        except (git.GitError, ActionRefused) as error:
            outcome.error = str(error)
            _record_sync_error(repository, outcome.error, actor)
            return outcome
    _save_branches(repository, facts, digest, outcome, actor)
    repository.refresh_from_db()
    return outcome


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

    facts = {}
    for head in heads:
        previous = known.get(head.name)
        if previous and previous.head == head.head and not bases_moved and not previous.is_gone:
            counts = {
                "ahead_of_production": previous.ahead_of_production,
                "behind_production": previous.behind_production,
                "ahead_of_development": previous.ahead_of_development,
                "behind_development": previous.behind_development,
            }
        else:
            ahead_p, behind_p = (0, 0) if head.head == production else repo.divergence(
                production, head.head
            )
            ahead_d, behind_d = (0, 0) if head.head == development else repo.divergence(
                development, head.head
            )
            counts = {
                "ahead_of_production": ahead_p,
                "behind_production": behind_p,
                "ahead_of_development": ahead_d,
                "behind_development": behind_d,
            }
        facts[head.name] = {
            "kind": branch_kind(repository, head.name),
            "head": head.head,
            "author_name": head.author_name[:255],
            "author_email": head.author_email[:255],
            "committed_at": head.committed_at,
            "subject": head.subject,
            **counts,
        }
    return facts


def _save_branches(
    repository: Repository,
    facts: dict[str, dict[str, Any]],
    digest: str,
    outcome: SyncOutcome,
    actor: Any,
) -> None:
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
            to_update, [*next(iter(facts.values())).keys(), "gone_at", "updated_at"],
            batch_size=500,
        )
        locked.refs_digest = digest
        locked.last_synced_at = now
        locked.last_sync_attempt_at = now
        locked.last_sync_error = ""
        locked.save(
            update_fields=[
                "refs_digest", "last_synced_at", "last_sync_attempt_at", "last_sync_error"
            ]
        )
        outcome.changed = bool(outcome.added or outcome.moved or outcome.gone)
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
    outcome.repository = locked


def repository_request_sync(*, repository: Repository, actor: Any) -> None:
    """A person pressed "Sync now": audit it and enqueue the sync once committed."""
    from releases.tasks import sync_repository

    with transaction.atomic():
        audit_record(
            actor=actor, action="repository.sync_requested", obj=repository, repository=repository
        )
        transaction.on_commit(
            lambda: sync_repository.delay(repository_id=repository.pk, actor_id=actor.pk)
        )


SETTINGS_FIELDS = {
    "production_branch", "development_branch", "required_approvals", "authors_may_approve",
    "manifest_path", "tag_style",
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
