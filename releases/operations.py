"""Production operations beside promotion: rollback, hotfix branches, the back-merge.

Each has two halves. The request's half (`release_rollback`, `hotfix_cut`,
`production_merge_into_development`) checks permission and what the database knows and
records an Operation (releases.operation_base): no git, no network. The worker's half
(`*_plan`, `*_record`) runs in releases.operation_runner: `*_plan` writes the git
objects without moving a local ref in the freshly fetched clone and says what to push;
`*_record` writes the rows and audit events once the origin has it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from releases import attestations, git, versioning
from releases.access import require_permission
from releases.audit import audit_record
from releases.candidates import existing_versions
from releases.clones import PAGE_CLONE_WAIT, clone_session, git_identity, person_identity
from releases.errors import ActionRefused
from releases.gates import active_freeze
from releases.models import (
    Branch,
    Incident,
    IncidentResolution,
    Operation,
    OperationKind,
    Release,
    ReleaseKind,
    Repository,
)
from releases.operation_base import Plan, operation_queue

HOTFIX_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,60}$")


def _production_head(repo: git.GitRepo, repository: Repository) -> str:
    head = git.ref_head(repo, f"refs/heads/{repository.production_branch}")
    if head is None:
        raise ActionRefused(f"The origin has no branch {repository.production_branch}.")
    return head


def _live_release(repository: Repository) -> Release | None:
    """The release production's head is, per the last sync."""
    line = getattr(repository, "release_line", None)
    if line is None or not line.production_is_released:
        return None
    return line.latest_release


# -- rollback --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollbackPreview:
    target: Release
    live: Release | None
    production_head: str
    version: str
    commits: list[dict[str, str]]
    models: list[str]
    versions_undone: list[str]


def rollback_preview(*, repository: Repository, target: Release) -> RollbackPreview:
    """What rolling production back to `target` will change, read from the cache clone.

    A page's read: it waits at most PAGE_CLONE_WAIT seconds for the clone, never for a
    worker's fetch from a slow origin."""
    try:
        with clone_session(repository, wait=PAGE_CLONE_WAIT) as repo:
            return _rollback_preview(repository, target, repo)
    except git.CloneBusy as error:
        raise ActionRefused(f"No preview yet: {error}.") from None


def _rollback_preview(
    repository: Repository, target: Release, repo: git.GitRepo
) -> RollbackPreview:
    """The preview from `repo` (the caller holds the clone lock)."""
    if target.repository_id != repository.pk:
        raise ActionRefused("That release belongs to another repository.")
    if not target.on_production:
        raise ActionRefused(f"{target.tag} is not on production; only those can be restored.")
    head = _production_head(repo, repository)
    if git.tree_of(repo, head) == git.tree_of(repo, target.commit):
        raise ActionRefused(f"Production already has {target.tag}'s tree.")
    commits = [
        {"sha": c.sha, "subject": c.subject, "author": c.author_name}
        for c in repo.log(head, f"^{target.commit}", no_merges=True)
    ]
    models = sorted(
        {
            "/".join(path.split("/")[:2])
            for path in git.changed_paths(repo, target.commit, head, under="models/")
            if path.count("/") >= 2
        }
    )
    target_version = versioning.parse_version_tag(target.version)
    undone = sorted(
        (
            r
            for r in Release.objects.filter(repository=repository, on_production=True)
            if isinstance(target_version, versioning.ParsedTag)
            and isinstance(p := versioning.parse_version_tag(r.version), versioning.ParsedTag)
            and p.version > target_version.version
        ),
        key=lambda r: versioning.parse_version_tag(r.version).version,  # type: ignore[union-attr]
    )
    existing = existing_versions(repository)
    version = versioning.next_version(max(existing), "patch") if existing else None
    return RollbackPreview(
        target=target,
        live=_live_release(repository),
        production_head=head,
        version=str(version),
        commits=commits,
        models=models,
        versions_undone=[r.version for r in undone],
    )


def release_rollback(
    *,
    repository: Repository,
    target: Release,
    actor: Any,
    reason: str,
    break_glass_reason: str = "",
) -> Operation:
    """Queue one commit on production whose tree is `target`'s, tagged, pushed, recorded.

    History is kept: nothing is reverted by rewriting, nothing is force-pushed.
    """
    require_permission(actor, "rollback_release")
    if not reason.strip():
        raise ActionRefused("A rollback needs a reason.")
    freeze = active_freeze(repository)
    if freeze is not None and not break_glass_reason.strip():
        raise ActionRefused(
            f"A freeze is active until {freeze.ends_at:%Y-%m-%d %H:%M} UTC ({freeze.reason}); "
            "give a reason to break the glass."
        )
    if target.repository_id != repository.pk:
        raise ActionRefused("That release belongs to another repository.")
    if not target.on_production:
        raise ActionRefused(f"{target.tag} is not on production; only those can be restored.")
    return operation_queue(
        repository=repository,
        kind=OperationKind.ROLLBACK,
        actor=actor,
        params={
            "target": target.version,
            "reason": reason.strip(),
            "break_glass": break_glass_reason.strip(),
        },
    )


def rollback_plan(operation: Operation, repo: git.GitRepo) -> Plan:
    """The rollback commit and its tag, written in the fetched clone (worker side)."""
    repository = operation.repository
    actor = operation.requested_by
    reason = operation.params["reason"]
    target = Release.objects.get(repository=repository, version=operation.params["target"])
    preview = _rollback_preview(repository, target, repo)
    live = preview.live
    tag = versioning.format_tag(preview.version, repository.tag_style)
    now = timezone.now()
    undone = f" (from {live.tag})" if live else ""
    username = actor.get_username() if actor else "ewsdash"
    message = (
        f"Roll back production to {target.tag}{undone}\n\n"
        f"Reason: {reason}\nRolled back by: {username}\n"
    )
    commit = git.commit_tree(
        repo,
        tree=git.tree_of(repo, target.commit),
        parents=[preview.production_head],
        message=message,
        author=person_identity(actor) if actor else git_identity(),
        committer=git_identity(),
        when=now,
    )
    tag_object = git.annotated_tag(
        repo,
        name=tag,
        target=commit,
        when=now,
        tagger=git_identity(),
        message=f"Release {tag}: rollback to {target.tag}{undone}\n\n{message}",
        sign=attestations.tag_signer(repository),
    )
    tagged = attestations.Tagged(preview.version, tag, tag_object, commit, now)
    attested, attestation = attestations.attestation_plan(operation, repo, tagged)
    return Plan(
        updates={
            f"refs/heads/{repository.production_branch}": commit,
            f"refs/tags/{tag}": tag_object,
            **attested,
        },
        result={
            "attestation": attestation,
            "version": preview.version,
            "tag": tag,
            "commit": commit,
            "tagged_at": now.isoformat(),
            "restores": target.version,
            "rolls_back": live.version if live else None,
            "versions_undone": preview.versions_undone,
        },
    )


def rollback_record(operation: Operation) -> str:
    """The rollback's release row and audit event (inside the runner's transaction)."""
    repository, result, actor = operation.repository, operation.result, operation.requested_by
    reason = operation.params["reason"]
    target = Release.objects.get(repository=repository, version=result["restores"])
    live = (
        Release.objects.filter(repository=repository, version=result["rolls_back"]).first()
        if result.get("rolls_back")
        else None
    )
    release, created = Release.objects.get_or_create(
        repository=repository,
        version=result["version"],
        defaults={
            "tag": result["tag"],
            "tags": [result["tag"]],
            "commit": result["commit"],
            "kind": ReleaseKind.ROLLBACK,
            "released_by": actor,
            "tagged_at": datetime.fromisoformat(result["tagged_at"]),
            "on_production": True,
            "rolls_back": live,
            "restores": target,
            "tagger_name": git_identity().name,
            "tagger_email": git_identity().email,
            "changelog": [
                {
                    "group": "Other",
                    "sha": result["commit"][:8],
                    "author": actor.get_username() if actor else "ewsdash",
                    "type": "revert",
                    "scope": "",
                    "subject": f"roll back to {target.tag}: {reason}",
                }
            ],
        },
    )
    if not created and release.commit == result["commit"]:
        # A sync imported the tag before we recorded it: it is ours, say so.
        release.kind, release.released_by = ReleaseKind.ROLLBACK, actor
        release.rolls_back, release.restores, release.on_production = live, target, True
        release.save()
    Release.objects.filter(repository=repository, version__in=result["versions_undone"]).update(
        rolled_back_by=release
    )
    attestations.attestation_record(operation, release)
    operation.result = {**result, "release_id": release.pk}
    audit_record(
        actor=actor,
        action="release.rolled_back",
        obj=release,
        repository=repository,
        payload={
            "restores": target.version,
            "rolls_back": live.version if live else None,
            "commit": result["commit"],
            "reason": reason,
            "break_glass": operation.params.get("break_glass", ""),
            "versions_undone": result["versions_undone"],
            "operation": operation.pk,
        },
    )
    return f"rolled back to {target.tag} as {release.tag}"


# -- hotfix branch and back-merge ------------------------------------------------------------


def hotfix_cut(*, repository: Repository, actor: Any, name: str) -> Operation:
    """Queue hotfix/<name> at the origin from production's head."""
    require_permission(actor, "cut_hotfix")
    name = name.strip().removeprefix("hotfix/")
    if not HOTFIX_NAME_RE.match(name):
        raise ActionRefused(
            "A hotfix name uses lower-case letters, digits, '.', '_' or '-' (e.g. fix-missing-"
            "countries)."
        )
    branch = f"hotfix/{name}"
    if Branch.objects.filter(repository=repository, name=branch, gone_at__isnull=True).exists():
        raise ActionRefused(f"The branch {branch} already exists.")
    return operation_queue(
        repository=repository, kind=OperationKind.HOTFIX_CUT, actor=actor, params={"branch": branch}
    )


def hotfix_plan(operation: Operation, repo: git.GitRepo) -> Plan:
    repository, branch = operation.repository, operation.params["branch"]
    head = _production_head(repo, repository)
    existing = git.ref_head(repo, f"refs/heads/{branch}")
    if existing is not None:
        if existing == head and operation.result.get("from") == head:
            return Plan(updates={}, result=operation.result)  # an earlier attempt pushed it
        raise ActionRefused(f"The branch {branch} already exists.")
    return Plan(updates={f"refs/heads/{branch}": head}, result={"branch": branch, "from": head})


def hotfix_record(operation: Operation) -> str:
    audit_record(
        actor=operation.requested_by,
        action="hotfix.cut",
        repository=operation.repository,
        payload={**operation.result, "operation": operation.pk},
    )
    return f"{operation.result['branch']} created from production's head"


def production_merge_into_development(
    *, repository: Repository, actor: Any, apply_rollbacks: bool = False
) -> Operation:
    """Queue the back-merge: production into development, pushed; on conflict nothing is.

    By default a rollback on production is recorded as merged without taking its tree:
    development keeps the rolled-back work (see `back_merge_plan`). `apply_rollbacks`
    is the separate, explicit choice to revert that work on development too.
    """
    require_permission(actor, "merge_production")
    # Whether development already contains production is the worker's to judge, from a
    # fresh fetch: the last sync's answer may be stale.
    return operation_queue(
        repository=repository,
        kind=OperationKind.BACK_MERGE,
        actor=actor,
        params={"apply_rollbacks": bool(apply_rollbacks)},
    )


def _merge(repo: git.GitRepo, operation: Operation, base: str, other: str, what: str) -> str:
    repository, actor = operation.repository, operation.requested_by
    username = actor.get_username() if actor else "ewsdash"
    try:
        return git.merge_commit(
            repo,
            base=base,
            other=other,
            message=(
                f"Merge {what} into {repository.development_branch}\n\n"
                f"Back-port by ewsdash for {username}."
            ),
            author=person_identity(actor) if actor else git_identity(),
            committer=git_identity(),
            when=timezone.now(),
        )
    except git.MergeConflict as conflict:
        raise ActionRefused(
            "Production does not merge cleanly into development; nothing was pushed. "
            f"Conflicting files: {', '.join(conflict.files)}. Merge by hand and push."
        ) from None


def _record_rollback_as_merged(
    repo: git.GitRepo, operation: Operation, base: str, rollback: str, tag: str
) -> str:
    """A merge commit of `rollback` into `base` that keeps `base`'s tree (git's `-s ours`).

    Git then knows the rollback is merged: no later back-merge applies it by accident.
    """
    repository, actor = operation.repository, operation.requested_by
    return git.commit_tree(
        repo,
        tree=git.tree_of(repo, base),
        parents=[base, rollback],
        message=(
            f"Record the rollback {tag} as merged into {repository.development_branch}\n\n"
            f"{repository.development_branch} keeps its content: the rollback's tree is not "
            "taken. Back-port by ewsdash for "
            f"{actor.get_username() if actor else 'ewsdash'}."
        ),
        author=person_identity(actor) if actor else git_identity(),
        committer=git_identity(),
        when=timezone.now(),
    )


def back_merge_plan(operation: Operation, repo: git.GitRepo) -> Plan:
    """Production into development, without reverting development's work by default.

    Git's revert-of-a-merge trap: a rollback commit on production has an older release's
    tree, so a plain merge would undo on development everything the rolled-back release
    brought. Walking production's first-parent history that development lacks, each
    rollback commit is recorded as merged keeping development's tree (what production
    had before it is merged normally first); whatever production gained after the last
    rollback is then merged normally. With `apply_rollbacks` it is one plain merge.
    """
    repository = operation.repository
    production = _production_head(repo, repository)
    development = git.ref_head(repo, f"refs/heads/{repository.development_branch}")
    if development is None:
        raise ActionRefused(f"The origin has no branch {repository.development_branch}.")
    if git.is_ancestor(repo, production, development):
        raise ActionRefused("Development already contains production.")
    apply_rollbacks = bool(operation.params.get("apply_rollbacks"))
    rollbacks = dict(
        Release.objects.filter(repository=repository, kind=ReleaseKind.ROLLBACK).values_list(
            "commit", "tag"
        )
    )
    tip, kept = development, []
    if not apply_rollbacks:
        chain = repo.run(
            "rev-list", "--first-parent", "--reverse", production, f"^{development}"
        ).split()
        for sha in chain:
            if sha not in rollbacks:
                continue
            before = repo.run("rev-parse", f"{sha}^1").strip()
            if not git.is_ancestor(repo, before, tip):
                tip = _merge(repo, operation, tip, before, repository.production_branch)
            tip = _record_rollback_as_merged(repo, operation, tip, sha, rollbacks[sha])
            kept.append(rollbacks[sha])
    if not git.is_ancestor(repo, production, tip):
        tip = _merge(repo, operation, tip, production, repository.production_branch)
    applied = (
        []
        if not apply_rollbacks
        else [
            tag
            for sha, tag in rollbacks.items()
            if git.is_ancestor(repo, sha, production)
            and not git.is_ancestor(repo, sha, development)
        ]
    )
    return Plan(
        updates={f"refs/heads/{repository.development_branch}": tip},
        result={
            "merge": tip,
            "production": production,
            "development": development,
            "rollbacks_recorded_as_merged": kept,
            "rollbacks_applied": applied,
        },
    )


def back_merge_record(operation: Operation) -> str:
    audit_record(
        actor=operation.requested_by,
        action="development.back_merged",
        repository=operation.repository,
        payload={**operation.result, "operation": operation.pk},
    )
    result = operation.result
    said = f"production merged into development ({result['merge'][:10]})"
    if result.get("rollbacks_recorded_as_merged"):
        said += (
            "; development keeps its content: rollback "
            + ", ".join(result["rollbacks_recorded_as_merged"])
            + " recorded as merged without its tree"
        )
    if result.get("rollbacks_applied"):
        said += "; rollback " + ", ".join(result["rollbacks_applied"]) + " applied to development"
    return said


# -- incidents: an admin adopts what moved outside ewsdash, or rolls it back ------------------


def incident_acknowledge(
    *,
    incident: Incident,
    actor: Any,
    resolution: str,
    reason: str,
    rollback_to: Release | None = None,
) -> Operation | None:
    """Close an open incident with a reason: adopt the outside change, or roll it back.

    Rolling back queues the rollback operation (returned) in the same transaction.
    """
    require_permission(actor, "acknowledge_incident")
    if not reason.strip():
        raise ActionRefused("Acknowledging an incident needs a reason.")
    if resolution not in IncidentResolution.values:
        raise ActionRefused("Choose to adopt the change or to roll it back.")
    if resolution == IncidentResolution.ROLLED_BACK and rollback_to is None:
        raise ActionRefused("Choose the release to roll back to.")
    with transaction.atomic():
        locked = (
            Incident.objects.select_for_update().select_related("repository").get(pk=incident.pk)
        )
        if not locked.is_open:
            raise ActionRefused("This incident was already acknowledged.")
        operation = None
        if resolution == IncidentResolution.ROLLED_BACK:
            assert rollback_to is not None
            operation = release_rollback(
                repository=locked.repository,
                target=rollback_to,
                actor=actor,
                reason=f"incident #{locked.pk}: {reason.strip()}",
                break_glass_reason=f"incident #{locked.pk}",
            )
        locked.acknowledged_by, locked.acknowledged_at = actor, timezone.now()
        locked.resolution, locked.reason, locked.operation = resolution, reason.strip(), operation
        locked.save()
        audit_record(
            actor=actor,
            action="incident.acknowledged",
            obj=locked,
            repository=locked.repository,
            payload={
                "kind": locked.kind,
                "commit": locked.commit,
                "resolution": resolution,
                "reason": reason.strip(),
                "rollback_to": rollback_to.version if rollback_to else None,
                "operation": operation.pk if operation else None,
            },
        )
    return operation
