"""The webhook payloads ewsdash acts on, as schemas: anything else is a 400.

Only the fields ewsdash reads are declared (GitHub sends many more, which are ignored);
their shapes follow GitHub's published webhook schemas (@octokit/openapi-webhooks).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SHA = r"^[0-9a-f]{40}([0-9a-f]{24})?$"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    def moved_ref(self) -> str:
        """The ref the event is about (for the audit event)."""
        return str(getattr(self, "ref", ""))


class GitHubRepository(_Payload):
    full_name: str
    default_branch: str | None = None


class GitHubPush(_Payload):
    ref: str
    before: str = Field(pattern=SHA)
    after: str = Field(pattern=SHA)
    repository: GitHubRepository


class GitHubRefChange(_Payload):
    """`create` and `delete`: a branch or tag appeared or went."""

    ref: str
    ref_type: Literal["branch", "tag"]
    repository: GitHubRepository


class GitHubPullRequestRef(_Payload):
    ref: str
    sha: str = Field(pattern=SHA)


class GitHubPullRequestBody(_Payload):
    number: int
    head: GitHubPullRequestRef
    base: GitHubPullRequestRef
    merged: bool | None = None


class GitHubPullRequest(_Payload):
    action: str
    number: int
    pull_request: GitHubPullRequestBody
    repository: GitHubRepository

    def moved_ref(self) -> str:
        return self.pull_request.head.ref


class GitHubUser(_Payload):
    login: str


class GitHubReview(_Payload):
    id: int
    state: str
    commit_id: str = Field(pattern=SHA)
    user: GitHubUser | None = None


class GitHubPullRequestReview(_Payload):
    """`pull_request_review`: someone reviewed a pull request (it may count as an approval)."""

    action: str
    review: GitHubReview
    pull_request: GitHubPullRequestBody
    repository: GitHubRepository

    def moved_ref(self) -> str:
        return self.pull_request.head.ref


class GitHubPing(_Payload):
    # GitHub's schema requires neither.
    zen: str | None = None
    hook_id: int | None = None


GITHUB_SYNC_EVENTS: dict[str, type[_Payload]] = {
    "push": GitHubPush,
    "create": GitHubRefChange,
    "delete": GitHubRefChange,
    "pull_request": GitHubPullRequest,
    "pull_request_review": GitHubPullRequestReview,
}


class GitEvent(_Payload):
    """The generic hook's body: a ref moved, appeared or went at the origin."""

    model_config = ConfigDict(extra="forbid")

    event: Literal["push", "create", "delete"]
    ref: str = Field(min_length=1, max_length=1000)
    after: str | None = Field(default=None, pattern=SHA)
