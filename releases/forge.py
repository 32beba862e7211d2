"""What ewsdash publishes on the forge a repository is hosted on (issue 15, forge mode).

A repository's `forge` says where it lives: `direct` (a plain git host: ewsdash talks git
and nothing else) or `github`. A forge adapter is a small class behind the `ForgeClient`
protocol, so GitLab can follow as another adapter; `forge_client` picks it. The network is
only ever called from a worker (`releases.tasks.candidate_gates_publish`), never inside a
request or a transaction: services queue that task by name (`ewsdash.queue`).

Published today: the `ewsdash/gates` commit status on a candidate's frozen commit, green
only while every gate holds, so a protected branch can make it a required check; and, when
a candidate is created, a branch `ewsdash/candidate-<id>` at its frozen commit with a pull
request into production whose body links the candidate and lists its changelog.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from github import Auth, Github, GithubException

from releases import git, versioning
from releases.audit import audit_record
from releases.clones import clone_session
from releases.gates import gate_facts, missing_for_promotion
from releases.models import Forge, PromotionCandidate, Repository
from releases.workflow import OPEN, S

GATES_CONTEXT = "ewsdash/gates"
# GitHub keeps at most 140 characters of a status description.
DESCRIPTION_LIMIT = 140


class ForgeError(Exception):
    """The forge refused or could not be reached; the message says which and why."""


@dataclass(frozen=True)
class PullRequest:
    """What ewsdash reads of a pull request."""

    number: int
    state: str  # open, closed
    merged: bool
    head_sha: str
    merge_commit: str  # the merge commit once merged, else ""


@dataclass(frozen=True)
class Review:
    """One pull-request review: who, what they said, and on which commit."""

    id: int
    login: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    commit: str


class ForgeClient(Protocol):
    """What ewsdash asks of a forge. Another forge (GitLab: merge requests, commit
    statuses, approvals) is another class with these methods; nothing else changes."""

    def commit_status(
        self, *, sha: str, state: str, description: str, context: str, target_url: str
    ) -> None: ...

    def pull_request_open(self, *, head: str, base: str, title: str, body: str) -> int: ...

    def pull_request_get(self, number: int) -> PullRequest: ...

    def pull_request_merge(self, number: int, *, sha: str, title: str, message: str) -> str:
        """Merge with a merge commit, only while the head is `sha`; returns the merge commit."""
        ...

    def pull_request_reviews(self, number: int) -> list[Review]: ...

    def branch_protected(self, branch: str) -> bool: ...


def _refusal(error: GithubException) -> ForgeError:
    message = error.message or (error.data or {}).get("message") or str(error.data)
    return ForgeError(f"GitHub answered {error.status}: {message}")


class GitHubForge:
    """GitHub's REST API through PyGithub, for one repository ("owner/repo")."""

    def __init__(self, *, project: str, token: str, api_url: str, timeout: int) -> None:
        self.project = project
        # No retries: the task reports a failure and the next gate change publishes again.
        self.github = Github(
            auth=Auth.Token(token), base_url=api_url, timeout=timeout, retry=None, lazy=True
        )

    def commit_status(
        self, *, sha: str, state: str, description: str, context: str, target_url: str
    ) -> None:
        """POST /repos/{owner}/{repo}/statuses/{sha}."""
        try:
            commit = self.github.get_repo(self.project).get_commit(sha)
            commit.create_status(
                state=state, description=description, context=context, target_url=target_url
            )
        except GithubException as error:
            raise _refusal(error) from None
        except OSError as error:  # connection refused, DNS, timeout (requests' errors)
            raise ForgeError(f"GitHub could not be reached: {error}") from None

    def pull_request_open(self, *, head: str, base: str, title: str, body: str) -> int:
        """POST /repos/{owner}/{repo}/pulls; returns the pull request's number."""
        try:
            pull = self.github.get_repo(self.project).create_pull(
                base=base, head=head, title=title, body=body, maintainer_can_modify=False
            )
        except GithubException as error:
            raise _refusal(error) from None
        except OSError as error:
            raise ForgeError(f"GitHub could not be reached: {error}") from None
        return int(pull.number)

    def pull_request_get(self, number: int) -> PullRequest:
        """GET /repos/{owner}/{repo}/pulls/{pull_number}."""
        try:
            pull = self.github.get_repo(self.project).get_pull(number)
            return PullRequest(
                number=int(pull.number),
                state=str(pull.state),
                merged=bool(pull.merged),
                head_sha=str(pull.head.sha),
                merge_commit=str(pull.merge_commit_sha or "") if pull.merged else "",
            )
        except GithubException as error:
            raise _refusal(error) from None
        except OSError as error:
            raise ForgeError(f"GitHub could not be reached: {error}") from None

    def pull_request_merge(self, number: int, *, sha: str, title: str, message: str) -> str:
        """PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge with a merge commit; GitHub
        refuses (409) when the head is no longer `sha`."""
        try:
            pull = self.github.get_repo(self.project).get_pull(number)
            status = pull.merge(
                commit_title=title, commit_message=message, merge_method="merge", sha=sha
            )
        except GithubException as error:
            raise _refusal(error) from None
        except OSError as error:
            raise ForgeError(f"GitHub could not be reached: {error}") from None
        if not status.merged:
            raise ForgeError(f"GitHub did not merge pull request #{number}: {status.message}")
        return str(status.sha)

    def pull_request_reviews(self, number: int) -> list[Review]:
        """GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews (every page)."""
        try:
            pull = self.github.get_repo(self.project).get_pull(number)
            return [
                Review(
                    id=int(review.id),
                    login=str(review.user.login) if review.user else "",
                    state=str(review.state),
                    commit=str(review.commit_id or ""),
                )
                for review in pull.get_reviews()
            ]
        except GithubException as error:
            raise _refusal(error) from None
        except OSError as error:
            raise ForgeError(f"GitHub could not be reached: {error}") from None

    def branch_protected(self, branch: str) -> bool:
        """GET /repos/{owner}/{repo}/branches/{branch}: its `protected` flag (readable with
        the same token; the protection rules themselves need admin rights)."""
        try:
            return bool(self.github.get_repo(self.project).get_branch(branch).protected)
        except GithubException as error:
            raise _refusal(error) from None
        except OSError as error:
            raise ForgeError(f"GitHub could not be reached: {error}") from None


def forge_token_env(repository: Repository) -> str:
    return repository.forge_token_env or "EWSDASH_GITHUB_TOKEN"


def forge_token(repository: Repository) -> str:
    """The repository's forge token, from the environment variable it names ('' if unset)."""
    return os.environ.get(forge_token_env(repository), "").strip()


def forge_client(repository: Repository) -> ForgeClient | None:
    """The adapter for the repository's forge; None in `direct` mode."""
    if repository.forge != Forge.GITHUB:
        return None
    token = forge_token(repository)
    if not token:
        raise ForgeError(
            f"{repository.name} is in github mode but ${forge_token_env(repository)} is not set."
        )
    return GitHubForge(
        project=repository.forge_project,
        token=token,
        api_url=settings.EWSDASH_GITHUB_API_URL,
        timeout=settings.EWSDASH_GITHUB_TIMEOUT,
    )


# -- the ewsdash/gates status ------------------------------------------------------------------


@dataclass(frozen=True)
class GatesStatus:
    state: str  # GitHub's words: pending, success, failure, error
    description: str


def _short(text: str) -> str:
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def gates_status(candidate: PromotionCandidate) -> GatesStatus:
    """The status the frozen commit should carry now: success only while every gate holds
    on an open candidate (or once it is released), failure naming what is missing."""
    status = candidate.status
    if status == S.RELEASED:
        return GatesStatus("success", f"Released as {candidate.version}.")
    if status not in OPEN:
        return GatesStatus("failure", _short(f"Candidate #{candidate.pk} was {S(status).label}."))
    missing = missing_for_promotion(gate_facts(candidate=candidate))
    if not missing:
        return GatesStatus("success", "Every ewsdash gate holds.")
    if status == S.VALIDATING:
        return GatesStatus("pending", _short("Staging validation is running."))
    return GatesStatus("failure", _short("; ".join(missing)))


def candidate_url(candidate: PromotionCandidate) -> str:
    path = reverse(
        "candidate_detail", kwargs={"name": candidate.repository.name, "pk": candidate.pk}
    )
    return settings.EWSDASH_PUBLIC_URL.rstrip("/") + path


def candidate_gates_publish(*, candidate_id: int) -> str:
    """Post the candidate's `ewsdash/gates` status on its frozen commit (a worker runs this,
    outside any transaction), and audit what was published or why it failed."""
    candidate = (
        PromotionCandidate.objects.select_related("repository", "validation_run")
        .filter(pk=candidate_id)
        .first()
    )
    if candidate is None:
        return f"candidate #{candidate_id} is gone"
    repository = candidate.repository
    if repository.forge == Forge.DIRECT:
        return f"{repository.name} has no forge to publish on"
    status = gates_status(candidate)
    payload = {"commit": candidate.commit, "context": GATES_CONTEXT, "state": status.state}
    try:
        client = forge_client(repository)
        assert client is not None
        client.commit_status(
            sha=candidate.commit,
            state=status.state,
            description=status.description,
            context=GATES_CONTEXT,
            target_url=candidate_url(candidate),
        )
    except ForgeError as error:
        with transaction.atomic():
            audit_record(
                actor="forge",
                action="forge.status_failed",
                obj=candidate,
                repository=repository,
                payload={**payload, "error": str(error)},
            )
        return f"{GATES_CONTEXT} for #{candidate_id} not published: {error}"
    with transaction.atomic():
        audit_record(
            actor="forge",
            action="forge.status_published",
            obj=candidate,
            repository=repository,
            payload={**payload, "description": status.description},
        )
    return f"{GATES_CONTEXT} {status.state} on {candidate.commit[:10]}"


# -- the candidate's pull request --------------------------------------------------------------


def candidate_branch(candidate: PromotionCandidate) -> str:
    return f"ewsdash/candidate-{candidate.pk}"


def pull_request_body(candidate: PromotionCandidate) -> str:
    changelog = versioning.Changelog.from_list(candidate.changelog).as_markdown()
    return (
        f"Promotion candidate [#{candidate.pk}]({candidate_url(candidate)}): "
        f"{candidate.source_branch} at `{candidate.commit}`, version {candidate.version}.\n\n"
        f"ewsdash posts the `{GATES_CONTEXT}` status on this commit: green only while every "
        f"gate holds (validation, approvals, freeze, production contained).\n\n{changelog}"
    )


def candidate_pull_request_open(*, candidate_id: int) -> str:
    """Push `ewsdash/candidate-<id>` at the frozen commit and open its pull request into
    production (a worker runs this once the candidate is created). Safe to repeat: a
    candidate that has its pull request is left alone."""
    candidate = (
        PromotionCandidate.objects.select_related("repository").filter(pk=candidate_id).first()
    )
    if candidate is None:
        return f"candidate #{candidate_id} is gone"
    repository = candidate.repository
    if repository.forge == Forge.DIRECT or candidate.forge_pull_request:
        return f"candidate #{candidate_id}: no pull request to open"
    branch = candidate_branch(candidate)
    payload = {"branch": branch, "commit": candidate.commit}
    try:
        client = forge_client(repository)
        assert client is not None
        with clone_session(repository) as repo:
            if git.ref_head(repo, f"refs/heads/{branch}") != candidate.commit:
                git.push_atomic(repo, {f"refs/heads/{branch}": candidate.commit})
        number = client.pull_request_open(
            head=branch,
            base=repository.production_branch,
            title=f"Release {candidate.version} (ewsdash candidate #{candidate.pk})",
            body=pull_request_body(candidate),
        )
    except (ForgeError, git.GitError) as error:
        with transaction.atomic():
            audit_record(
                actor="forge",
                action="forge.pull_request_failed",
                obj=candidate,
                repository=repository,
                payload={**payload, "error": str(error)},
            )
        return f"no pull request for #{candidate_id}: {error}"
    with transaction.atomic():
        PromotionCandidate.objects.filter(pk=candidate.pk).update(forge_pull_request=number)
        audit_record(
            actor="forge",
            action="forge.pull_request_opened",
            obj=candidate,
            repository=repository,
            payload={**payload, "number": number},
        )
    return f"pull request #{number} for candidate #{candidate_id}"
