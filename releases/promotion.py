"""Promotion's git work, on a worker: merge the frozen commit, tag it, push, record.

`candidate_promote` (releases.candidates) checks the gates and records a promote
Operation; the runner (releases.operation_runner) calls `promotion_plan`, pushes, then
`promotion_record` (or `promotion_fail`). The merge and the tag are written as git objects
without moving a local ref and pushed together with `push --atomic`, so a failure leaves
nothing behind.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from releases import attestations, git, versioning
from releases.clones import clone_session, git_identity, person_identity
from releases.errors import ActionRefused
from releases.gates import gate_facts
from releases.models import (
    CandidateKind,
    Operation,
    PromotionCandidate,
    Release,
    ReleaseKind,
)
from releases.operation_base import Plan
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


def promotion_plan(operation: Operation, repo: git.GitRepo) -> Plan:
    """The merge and its tag, written in the fetched clone (the caller holds its lock).

    Safe to repeat: if an earlier attempt already pushed this candidate's tag, the plan is
    empty and its result is what the origin shows. Raises ActionRefused with the reason.
    """
    candidate = operation.candidate
    assert candidate is not None
    repository = candidate.repository
    tag = versioning.format_tag(candidate.version, repository.tag_style)
    existing = git.ref_head(repo, f"refs/tags/{tag}")
    if existing is not None:
        parents = repo.run("rev-list", "--parents", "-n", "1", existing).split()[1:]
        if candidate.commit in parents:
            result = {"commit": existing, "tag": tag}
            found = attestations.attestation_found(repo, candidate.version)
            return Plan(updates={}, result={**result, "attestation": found} if found else result)
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
        sign=attestations.tag_signer(repository),
    )
    tagged = attestations.Tagged(candidate.version, tag, tag_object, merge, now)
    attested, attestation = attestations.attestation_plan(operation, repo, tagged)
    return Plan(
        updates={
            f"refs/heads/{repository.production_branch}": merge,
            f"refs/tags/{tag}": tag_object,
            **attested,
        },
        result={"commit": merge, "tag": tag, "attestation": attestation},
    )


def promotion_merge_and_tag(*, candidate: PromotionCandidate) -> tuple[str, str]:
    """Plan and push the candidate's promotion outside any operation bookkeeping.

    Returns (merge commit, tag). What a worker that died right after its push leaves
    behind; tests use it to stage that fault.
    """
    operation = Operation(repository=candidate.repository, candidate=candidate)
    with clone_session(candidate.repository) as repo:
        repo.fetch()
        plan = promotion_plan(operation, repo)
        if plan.updates:
            git.push_atomic(repo, plan.updates)
    return plan.result["commit"], plan.result["tag"]


def promotion_record(operation: Operation) -> str:
    """The release row and the candidate's move to released (inside the runner's transaction)."""
    assert operation.candidate is not None
    merge, tag = operation.result["commit"], operation.result["tag"]
    locked = candidate_lock(operation.candidate)
    if locked.status != S.PROMOTING:
        return f"candidate #{locked.pk} is {locked.status}; nothing to do"
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
    attestations.attestation_record(operation, release)
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
            "operation": operation.pk,
        },
    )
    return f"released {tag} at {merge[:10]}"


def promotion_fail(operation: Operation, error: str) -> None:
    """The candidate's move to promotion_failed (inside the runner's transaction)."""
    assert operation.candidate is not None
    locked = candidate_lock(operation.candidate)
    if locked.status == S.PROMOTING:
        locked.promotion_error = error
        candidate_transition(
            locked,
            S.PROMOTION_FAILED,
            actor=None,
            action="candidate.promotion_failed",
            reason=error,
            payload={"operation": operation.pk},
        )
