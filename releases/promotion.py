"""Promotion's git work, on a worker: merge the frozen commit, tag it, push, record.

`candidate_promote` (releases.candidates) checks the gates and queues this; the task calls
`promotion_run`. The merge and the tag are written as git objects without moving a local
ref and pushed together with `push --atomic`, so a failure leaves nothing behind.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from releases import git, versioning
from releases.clones import clone_session, git_identity, person_identity
from releases.errors import ActionRefused
from releases.gates import gate_facts
from releases.models import (
    CandidateKind,
    PromotionCandidate,
    Release,
    ReleaseKind,
)
from releases.sync import repository_sync
from releases.workflow import S, candidate_lock, candidate_transition


def promotion_tag_message(candidate: PromotionCandidate, tag: str) -> str:
    approvers = ", ".join(
        sorted(a.user.get_username() for a in gate_facts(candidate=candidate).live_approvals)
    )
    run = candidate.validation_run
    evidence = f"run #{run.pk} attempt {run.attempt}: {run.status}" if run is not None else "none"
    if candidate.waived_by_id:
        evidence += f" (waived: {candidate.waiver_reason})"
    changelog = versioning.Changelog.from_list(candidate.changelog).as_markdown()
    return (
        f"Release {tag}\n\n"
        f"Candidate: #{candidate.pk} from {candidate.source_branch} at {candidate.commit}\n"
        f"Approved by: {approvers or 'nobody'}\n"
        f"Validation: {evidence}\n"
        f"Promoted by: {candidate.promoted_by.get_username() if candidate.promoted_by else '-'}\n"
        f"\n{changelog}"
    )


def promotion_merge_and_tag(*, candidate: PromotionCandidate) -> tuple[str, str]:
    """Merge the frozen commit into production (--no-ff), tag it, push both atomically.

    Returns (merge commit, tag). Safe to repeat: if an earlier attempt already
    pushed this candidate's tag, that result is returned. Raises GitError or
    ActionRefused with git's message; nothing is left behind either way.
    """
    repository = candidate.repository
    tag = versioning.format_tag(candidate.version, repository.tag_style)
    with clone_session(repository) as repo:
        repo.fetch()
        existing = git.ref_head(repo, f"refs/tags/{tag}")
        if existing is not None:
            parents = repo.run("rev-list", "--parents", "-n", "1", existing).split()[1:]
            if candidate.commit in parents:
                return existing, tag
            raise ActionRefused(f"The tag {tag} already exists at the origin.")
        production = git.ref_head(repo, f"refs/heads/{repository.production_branch}")
        if production is None:
            raise ActionRefused(f"The origin has no branch {repository.production_branch}.")
        if not git.is_ancestor(repo, production, candidate.commit):
            raise ActionRefused(
                f"Production moved to {production[:10]}, which the candidate does not contain."
            )
        now = timezone.now()
        message = (
            f"Release {tag}: merge {candidate.source_branch} at {candidate.commit[:10]}\n\n"
            f"Promotion candidate #{candidate.pk}."
        )
        merge = git.merge_commit(
            repo,
            base=production,
            other=candidate.commit,
            message=message,
            author=person_identity(candidate.promoted_by),
            committer=git_identity(),
            when=now,
        )
        tag_object = git.annotated_tag(
            repo,
            name=tag,
            target=merge,
            message=promotion_tag_message(candidate, tag),
            tagger=git_identity(),
            when=now,
        )
        git.push_atomic(
            repo,
            {
                f"refs/heads/{repository.production_branch}": merge,
                f"refs/tags/{tag}": tag_object,
            },
        )
    return merge, tag


def promotion_run(*, candidate_id: int) -> str:
    """The promote task's body: git work, then the release row, then a sync."""
    candidate = PromotionCandidate.objects.select_related(
        "repository", "promoted_by", "validation_run"
    ).get(pk=candidate_id)
    if candidate.status != S.PROMOTING:
        return f"candidate #{candidate_id} is {candidate.status}; nothing to do"
    try:
        merge, tag = promotion_merge_and_tag(candidate=candidate)
    except (git.GitError, ActionRefused) as error:
        with transaction.atomic():
            locked = candidate_lock(candidate)
            if locked.status == S.PROMOTING:
                locked.promotion_error = str(error)
                candidate_transition(
                    locked,
                    S.PROMOTION_FAILED,
                    actor=None,
                    action="candidate.promotion_failed",
                    reason=str(error),
                )
        return f"promotion of #{candidate_id} failed: {error}"
    with transaction.atomic():
        locked = candidate_lock(candidate)
        if locked.status != S.PROMOTING:
            return f"candidate #{candidate_id} is {locked.status}; nothing to do"
        release, _ = Release.objects.update_or_create(
            repository=locked.repository,
            version=locked.version,
            defaults={
                "tag": tag,
                "tags": [tag],
                "commit": merge,
                "kind": ReleaseKind.HOTFIX
                if locked.kind == CandidateKind.HOTFIX
                else ReleaseKind.PROMOTION,
                "released_by": locked.promoted_by,
                "tagged_at": timezone.now(),
                "changelog": locked.changelog,
                "on_production": True,
                "tagger_name": settings.EWSDASH_GIT_NAME,
                "tagger_email": settings.EWSDASH_GIT_EMAIL,
            },
        )
        locked.release = release
        candidate_transition(
            locked,
            S.RELEASED,
            actor=locked.promoted_by,
            action="candidate.released",
            payload={
                "version": locked.version,
                "tag": tag,
                "commit": merge,
                "run": locked.validation_run_id,
            },
        )
    repository_sync(repository=candidate.repository, force=True)
    return f"released {tag} at {merge[:10]}"
