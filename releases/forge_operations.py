"""Git writes through the forge, for repositories whose production a forge guards.

In `github` mode production takes no push from ewsdash: a protected branch refuses it.
Promotion merges the candidate's pull request through the API instead (a merge commit,
the `--no-ff` shape, and only while the pull request's head is still the frozen commit),
then tags the merge commit with the annotated semver tag, pushed like any tag. A rollback
does the same when production is protected (the repository's setting, or GitHub says
so): the rollback commit goes on a branch `ewsdash/rollback-<operation>`, its pull
request is merged, the merge commit is tagged. A hotfix cut only adds a branch, and a
hotfix is released as a candidate, so by pull request.

The runner (releases.operation_runner) calls `*_plan` like the direct kinds: the API call
happens there, the tag is the plan's one update. A worker that dies after GitHub merged
but before the tag reached the origin leaves a merged pull request and no tag; the
reaper's `*_finish` asks the forge, and a merged pull request is finished (tagged,
recorded) rather than called failed.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from releases import attestations, git, operations, promotion, versioning
from releases.clones import git_identity
from releases.errors import ActionRefused
from releases.forge import ForgeClient, ForgeError, forge_client
from releases.models import Forge, Operation, Repository
from releases.operation_base import Plan


def _client(repository: Repository) -> ForgeClient:
    try:
        client = forge_client(repository)
    except ForgeError as error:
        raise ActionRefused(str(error)) from None
    assert client is not None
    return client


def _pull_merged(repository: Repository, number: int) -> bool:
    try:
        return _client(repository).pull_request_get(number).merged
    except ForgeError as error:
        raise ActionRefused(f"GitHub cannot say what happened yet: {error}") from None


def _merged_shape(repo: git.GitRepo, merge: str, head: str) -> None:
    """The forge's merge commit must be a two-parent merge with `head` as second parent
    (what `--no-ff` makes). Its first parent is whatever production was when GitHub
    merged; a production that moved meanwhile is the sync's to judge, not a reason to
    leave a merged pull request untagged."""
    parents = repo.run("rev-list", "--parents", "-n", "1", merge).split()[1:]
    if len(parents) != 2 or parents[1] != head:
        raise ActionRefused(
            f"GitHub's merge {merge[:10]} is not a merge commit of {head[:10]}; ewsdash tags "
            "only a merge commit (the pull request must be merged with 'Create a merge commit')."
        )


def _merge_pull_request(
    operation: Operation, repo: git.GitRepo, *, number: int, head: str, title: str, body: str
) -> str:
    """Merge pull request `number` while its head is `head` (unless already merged) and
    return the merge commit, fetched into `repo`."""
    client = _client(operation.repository)
    production = operation.repository.production_branch
    try:
        pull = client.pull_request_get(number)
        if pull.merged:
            merge = pull.merge_commit
        else:
            if pull.head_sha != head:
                raise ActionRefused(
                    f"Pull request #{number}'s head moved to {pull.head_sha[:10]}; it must be "
                    f"{head[:10]}. Nothing was merged."
                )
            merge = client.pull_request_merge(number, sha=head, title=title, message=body)
    except ForgeError as error:
        raise ActionRefused(f"GitHub did not merge pull request #{number}: {error}") from None
    # At once, before anything else can fail: production's new head is ours (a sync
    # that GitHub's push webhook starts must not call it an outside change).
    Operation.objects.filter(pk=operation.pk).update(
        planned={**operation.planned, f"refs/heads/{production}": merge}
    )
    repo.fetch()
    if git.ref_object(repo, merge) is None:
        raise ActionRefused(f"GitHub's merge {merge[:10]} is not at the origin.")
    _merged_shape(repo, merge, head)
    return merge


# -- promotion ---------------------------------------------------------------------------------


def promotion_plan(operation: Operation, repo: git.GitRepo) -> Plan:
    """Merge the candidate's pull request (head = the frozen commit), tag the merge."""
    candidate = operation.candidate
    assert candidate is not None
    repository = candidate.repository
    tag = versioning.format_tag(candidate.version, repository.tag_style)
    existing = git.ref_head(repo, f"refs/tags/{tag}")
    if existing is not None:
        parents = repo.run("rev-list", "--parents", "-n", "1", existing).split()[1:]
        if candidate.commit in parents:
            result: dict[str, Any] = {"commit": existing, "tag": tag}
            found = attestations.attestation_found(repo, candidate.version)
            return Plan(updates={}, result={**result, "attestation": found} if found else result)
        raise ActionRefused(f"The tag {tag} already exists at the origin.")
    number = candidate.forge_pull_request
    if not number:
        raise ActionRefused(
            f"Candidate #{candidate.pk} has no pull request on GitHub yet; nothing was merged."
        )
    production = git.ref_head(repo, f"refs/heads/{repository.production_branch}")
    if production is None or not git.is_ancestor(repo, production, candidate.commit):
        # Checked before asking GitHub: a candidate that misses production's head would
        # merge, but what it was validated as is not what production would become.
        if not _pull_merged(repository, number):
            raise ActionRefused(
                f"Production moved to {(production or '?')[:10]}, which the candidate does "
                "not contain."
            )
    merge = _merge_pull_request(
        operation,
        repo,
        number=number,
        head=candidate.commit,
        title=f"Release {tag}: merge {candidate.source_branch} at {candidate.commit[:10]}",
        body=f"Promotion candidate #{candidate.pk}, pull request #{number}.",
    )
    now = timezone.now()
    tag_object = git.annotated_tag(
        repo,
        name=tag,
        target=merge,
        message=promotion.promotion_tag_message(candidate, tag),
        tagger=git_identity(),
        when=now,
        sign=attestations.tag_signer(repository),
    )
    tagged = attestations.Tagged(candidate.version, tag, tag_object, merge, now)
    attested, attestation = attestations.attestation_plan(operation, repo, tagged)
    return Plan(
        updates={f"refs/tags/{tag}": tag_object, **attested},
        result={"commit": merge, "tag": tag, "pull_request": number, "attestation": attestation},
        moved={f"refs/heads/{repository.production_branch}": merge},
    )


def promotion_finish(operation: Operation, repo: git.GitRepo) -> Plan | None:
    """Reconciling: GitHub merged the pull request but the tag never landed → finish it;
    the pull request still open → None (nothing was done)."""
    candidate = operation.candidate
    if candidate is None or not candidate.forge_pull_request:
        return None
    merged = _pull_merged(operation.repository, candidate.forge_pull_request)
    return promotion_plan(operation, repo) if merged else None


# -- rollback ----------------------------------------------------------------------------------


def production_protected(repository: Repository) -> bool:
    """Whether production takes no push from ewsdash: the repository says so, or GitHub."""
    if repository.forge == Forge.DIRECT:
        return False
    if repository.production_protected:
        return True
    try:
        return _client(repository).branch_protected(repository.production_branch)
    except ForgeError as error:
        raise ActionRefused(f"Cannot tell whether production is protected: {error}") from None


def rollback_branch(operation: Operation) -> str:
    return f"ewsdash/rollback-{operation.pk}"


def rollback_plan(operation: Operation, repo: git.GitRepo) -> Plan:
    """The rollback commit by pull request when production is protected, else pushed."""
    if operation.result.get("pull_request"):
        return _rollback_tag(operation, repo, dict(operation.result))
    if not production_protected(operation.repository):
        return operations.rollback_plan(operation, repo)
    direct = operations.rollback_plan(operation, repo)
    result: dict[str, Any] = dict(direct.result)
    repository = operation.repository
    branch = rollback_branch(operation)
    git.push_atomic(repo, {f"refs/heads/{branch}": result["commit"]})
    message = repo.run("log", "-1", "--format=%B", result["commit"]).strip()
    try:
        number = _client(repository).pull_request_open(
            head=branch,
            base=repository.production_branch,
            title=f"Release {result['tag']}: roll back production to {result['restores']}",
            body=f"ewsdash operation #{operation.pk}.\n\n{message}",
        )
    except ForgeError as error:
        raise ActionRefused(f"GitHub did not open the rollback's pull request: {error}") from None
    result.update(pull_request=number, rollback_commit=result["commit"], message=message)
    # Kept before merging: if this worker dies, reconciling finds the pull request.
    Operation.objects.filter(pk=operation.pk).update(result=result)
    return _rollback_tag(operation, repo, result)


def _rollback_tag(operation: Operation, repo: git.GitRepo, result: dict[str, Any]) -> Plan:
    number, rollback = int(result["pull_request"]), result["rollback_commit"]
    merge = _merge_pull_request(
        operation,
        repo,
        number=number,
        head=rollback,
        title=f"Release {result['tag']}: roll back production to {result['restores']}",
        body=f"ewsdash operation #{operation.pk}.",
    )
    if git.tree_of(repo, merge) != git.tree_of(repo, rollback):
        raise ActionRefused(f"GitHub's merge {merge[:10]} does not have the rollback's tree.")
    moved = {f"refs/heads/{operation.repository.production_branch}": merge}
    if git.ref_head(repo, f"refs/tags/{result['tag']}") == merge:
        # An earlier attempt tagged it already.
        found = attestations.attestation_found(repo, result["version"])
        result = {**result, "commit": merge, "attestation": found}
        return Plan(updates={}, result=result, moved=moved)
    now = timezone.now()
    tag_object = git.annotated_tag(
        repo,
        name=result["tag"],
        target=merge,
        tagger=git_identity(),
        when=now,
        message=f"Release {result['tag']}: rollback to {result['restores']}\n\n{result['message']}",
        sign=attestations.tag_signer(operation.repository),
    )
    # The release is the merge commit: its attestation names it, not the rollback commit.
    tagged = attestations.Tagged(result["version"], result["tag"], tag_object, merge, now)
    attested, attestation = attestations.attestation_plan(operation, repo, tagged)
    result = {**result, "commit": merge, "tagged_at": now.isoformat(), "attestation": attestation}
    return Plan(
        updates={f"refs/tags/{result['tag']}": tag_object, **attested}, result=result, moved=moved
    )


def rollback_finish(operation: Operation, repo: git.GitRepo) -> Plan | None:
    number = operation.result.get("pull_request")
    if not number or not _pull_merged(operation.repository, int(number)):
        return None
    return _rollback_tag(operation, repo, dict(operation.result))
