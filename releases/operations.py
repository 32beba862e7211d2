"""Production operations beside promotion: rollback, hotfix branches, the back-merge.

Each is a permission-checked service that fetches first, writes git objects without
moving a local ref, pushes atomically, then records and audits (git first, the database
second: see `releases.clones`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from releases import git, versioning
from releases.access import require_permission
from releases.audit import audit_record
from releases.candidates import existing_versions
from releases.clones import clone_session, git_identity, person_identity
from releases.errors import ActionRefused
from releases.gates import active_freeze
from releases.models import Release, ReleaseKind, Repository
from releases.sync import repository_sync

HOTFIX_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,60}$")


def _sync(repository: Repository, actor: Any) -> None:
    repository_sync(repository=repository, actor=actor, force=True)


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
    """What rolling production back to `target` will change, read from the cache clone."""
    with clone_session(repository) as repo:
        return _rollback_preview(repository, target, repo)


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
) -> Release:
    """Add one commit on production whose tree is `target`'s, tag it, push, record it.

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
    with clone_session(repository) as repo:
        repo.fetch()
        preview = _rollback_preview(repository, target, repo)
        live = preview.live
        tag = versioning.format_tag(preview.version, repository.tag_style)
        now = timezone.now()
        undone = f" (from {live.tag})" if live else ""
        message = (
            f"Roll back production to {target.tag}{undone}\n\n"
            f"Reason: {reason.strip()}\nRolled back by: {actor.get_username()}\n"
        )
        commit = git.commit_tree(
            repo,
            tree=git.tree_of(repo, target.commit),
            parents=[preview.production_head],
            message=message,
            author=person_identity(actor),
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
        )
        try:
            git.push_atomic(
                repo,
                {
                    f"refs/heads/{repository.production_branch}": commit,
                    f"refs/tags/{tag}": tag_object,
                },
            )
        except git.GitError as error:
            raise ActionRefused(str(error)) from None
    with transaction.atomic():
        release = Release.objects.create(
            repository=repository,
            version=preview.version,
            tag=tag,
            tags=[tag],
            commit=commit,
            kind=ReleaseKind.ROLLBACK,
            released_by=actor,
            tagged_at=now,
            on_production=True,
            rolls_back=live,
            restores=target,
            tagger_name=git_identity().name,
            tagger_email=git_identity().email,
            changelog=[
                {
                    "group": "Other",
                    "sha": commit[:8],
                    "author": actor.get_username(),
                    "type": "revert",
                    "scope": "",
                    "subject": f"roll back to {target.tag}: {reason.strip()}",
                }
            ],
        )
        Release.objects.filter(repository=repository, version__in=preview.versions_undone).update(
            rolled_back_by=release
        )
        audit_record(
            actor=actor,
            action="release.rolled_back",
            obj=release,
            repository=repository,
            payload={
                "restores": target.version,
                "rolls_back": live.version if live else None,
                "commit": commit,
                "reason": reason.strip(),
                "break_glass": break_glass_reason.strip(),
                "versions_undone": preview.versions_undone,
            },
        )
    _sync(repository, actor)
    return release


# -- hotfix branch and back-merge ------------------------------------------------------------


def hotfix_cut(*, repository: Repository, actor: Any, name: str) -> str:
    """Create hotfix/<name> at the origin from production's head."""
    require_permission(actor, "cut_hotfix")
    name = name.strip().removeprefix("hotfix/")
    if not HOTFIX_NAME_RE.match(name):
        raise ActionRefused(
            "A hotfix name uses lower-case letters, digits, '.', '_' or '-' (e.g. fix-missing-"
            "countries)."
        )
    branch = f"hotfix/{name}"
    with clone_session(repository) as repo:
        repo.fetch()
        if git.ref_head(repo, f"refs/heads/{branch}") is not None:
            raise ActionRefused(f"The branch {branch} already exists.")
        head = _production_head(repo, repository)
        try:
            git.push_atomic(repo, {f"refs/heads/{branch}": head})
        except git.GitError as error:
            raise ActionRefused(str(error)) from None
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="hotfix.cut",
            repository=repository,
            payload={"branch": branch, "from": head},
        )
    _sync(repository, actor)
    return branch


def production_merge_into_development(*, repository: Repository, actor: Any) -> str:
    """A real merge commit of production into development, pushed; on conflict nothing is."""
    require_permission(actor, "merge_production")
    with clone_session(repository) as repo:
        repo.fetch()
        production = _production_head(repo, repository)
        development = git.ref_head(repo, f"refs/heads/{repository.development_branch}")
        if development is None:
            raise ActionRefused(f"The origin has no branch {repository.development_branch}.")
        if git.is_ancestor(repo, production, development):
            raise ActionRefused("Development already contains production.")
        try:
            merge = git.merge_commit(
                repo,
                base=development,
                other=production,
                message=(
                    f"Merge {repository.production_branch} into "
                    f"{repository.development_branch}\n\nBack-port by ewsdash for "
                    f"{actor.get_username()}."
                ),
                author=person_identity(actor),
                committer=git_identity(),
                when=timezone.now(),
            )
            git.push_atomic(repo, {f"refs/heads/{repository.development_branch}": merge})
        except git.MergeConflict as conflict:
            raise ActionRefused(
                "Production does not merge cleanly into development; nothing was pushed. "
                f"Conflicting files: {', '.join(conflict.files)}. Merge by hand and push."
            ) from None
        except git.GitError as error:
            raise ActionRefused(str(error)) from None
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="development.back_merged",
            repository=repository,
            payload={"merge": merge, "production": production, "development": development},
        )
    _sync(repository, actor)
    return merge
