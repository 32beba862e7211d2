"""Forge mode github: the ewsdash/gates commit status, against GitHub's published contract.

Every request ewsdash sends to GitHub here goes to Prism serving GitHub's own OpenAPI
description (tests/support/prism.py), which answers 422 to anything GitHub would refuse.
"""

from __future__ import annotations

import pytest

from ewsdash import queue
from releases import candidates, forge, sync
from releases.audit import AuditEvent
from releases.forge import ForgeError, GitHubForge
from releases.models import Forge
from tests.promotion.conftest import waive

pytestmark = pytest.mark.django_db

PROJECT = "views-platform/pipeline"


def github(repository) -> None:
    repository.forge, repository.forge_project = Forge.GITHUB, PROJECT
    repository.save()


@pytest.fixture
def sent(monkeypatch):
    """The tasks queued (by name, with their arguments) once transactions commit."""
    calls: list[tuple[str, dict]] = []
    monkeypatch.setattr(queue, "enqueue", lambda task, **kw: calls.append((task, kw)))
    return calls


def publishes(sent) -> list[int]:
    return [kw["candidate_id"] for task, kw in sent if task == queue.CANDIDATE_GATES_PUBLISH]


# -- when it is queued -------------------------------------------------------------------------


def test_direct_mode_publishes_nothing(repo, users, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        made = candidates.candidate_create(repository=repo, actor=users["rm-ana"])
        waive(made, users)
    assert publishes(sent) == []


def test_github_mode_republishes_on_every_gate_change(
    repo, users, sent, django_capture_on_commit_callbacks
):
    github(repo)
    with django_capture_on_commit_callbacks(execute=True):
        made = candidates.candidate_create(repository=repo, actor=users["rm-ana"])
    # Created (validating), then validation failed: no manifest in this repository.
    assert publishes(sent) and set(publishes(sent)) == {made.pk}
    # Its pull request is opened first, so the pull request carries every status.
    assert (sent[0][0], sent[0][1]["candidate_id"]) == (queue.CANDIDATE_PULL_REQUEST_OPEN, made.pk)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        waive(made, users)
        candidates.candidate_approve(candidate=made, actor=users["rm-ben"])
    assert publishes(sent) == [made.pk, made.pk]


# -- what it says ------------------------------------------------------------------------------


def test_failed_validation_is_a_failure_naming_the_gate(candidate):
    status = forge.gates_status(candidate)
    assert status.state == "failure"
    assert status.description.startswith("Staging validation: run #")
    assert len(status.description) <= forge.DESCRIPTION_LIMIT


def test_missing_approvals_are_a_failure(validated):
    status = forge.gates_status(validated)
    assert (status.state, status.description) == ("failure", "Approvals: 0 of 2")


def test_green_only_when_every_gate_holds(approved):
    assert forge.gates_status(approved).state == "success"


def test_an_ended_candidate_is_a_failure(validated, users):
    candidates.candidate_reject(candidate=validated, actor=users["rm-ben"], reason="wrong data")
    validated.refresh_from_db()
    status = forge.gates_status(validated)
    assert (status.state, status.description) == (
        "failure",
        f"Candidate #{validated.pk} was rejected.",
    )


# -- against GitHub's contract -----------------------------------------------------------------


def test_the_status_is_posted_as_github_defines_it(approved, github_mode):
    github(approved.repository)
    mark = github_mode.mark()
    outcome = forge.candidate_gates_publish(candidate_id=approved.pk)
    assert outcome == f"ewsdash/gates success on {approved.commit[:10]}"
    posted = f"POST /repos/{PROJECT}/statuses/{approved.commit}"
    # One request, and GitHub's description accepts it (path, headers, body).
    assert github_mode.requests_since(mark) == [(posted, True)]
    event = AuditEvent.objects.filter(action="forge.status_published").get()
    assert event.payload["state"] == "success"
    assert event.payload["commit"] == approved.commit


def test_a_request_github_would_refuse_fails_loudly(github_mode, settings):
    client = GitHubForge(project=PROJECT, token="ghp_test", api_url=github_mode.url, timeout=10)
    mark = github_mode.mark()
    with pytest.raises(ForgeError, match="GitHub answered 422"):
        client.commit_status(
            sha="0" * 40, state="green", description="", context="ewsdash/gates", target_url=""
        )
    assert github_mode.requests_since(mark) == [
        (f"POST /repos/{PROJECT}/statuses/{'0' * 40}", False)
    ]


def test_without_a_token_nothing_is_sent_and_the_audit_says_why(
    validated, github_mode, monkeypatch
):
    github(validated.repository)
    monkeypatch.delenv("EWSDASH_GITHUB_TOKEN")
    mark = github_mode.mark()
    outcome = forge.candidate_gates_publish(candidate_id=validated.pk)
    assert "EWSDASH_GITHUB_TOKEN is not set" in outcome
    assert github_mode.requests_since(mark) == []
    event = AuditEvent.objects.filter(action="forge.status_failed").get()
    assert "EWSDASH_GITHUB_TOKEN" in event.payload["error"]


def test_an_unreachable_forge_is_reported(validated, settings, monkeypatch):
    github(validated.repository)
    monkeypatch.setenv("EWSDASH_GITHUB_TOKEN", "ghp_test")
    settings.EWSDASH_GITHUB_API_URL = "http://127.0.0.1:9"  # the discard port: refused
    outcome = forge.candidate_gates_publish(candidate_id=validated.pk)
    assert "GitHub could not be reached" in outcome


def test_production_moving_republishes(
    validated, world, users, sent, django_capture_on_commit_callbacks
):
    github(validated.repository)
    world.checkout("production")
    world.commit("fix: urgent", files={"hotfix.txt": "x\n"})
    world.push("production")
    with django_capture_on_commit_callbacks(execute=True):
        sync.repository_sync(repository=validated.repository, force=True)
    assert publishes(sent) == [validated.pk]
    validated.refresh_from_db()
    assert forge.gates_status(validated).description.startswith("Contains production's head")


def test_a_candidate_gets_its_branch_and_pull_request(
    repo, users, world, github_mode, django_capture_on_commit_callbacks
):
    github(repo)
    with django_capture_on_commit_callbacks(execute=False):
        made = candidates.candidate_create(repository=repo, actor=users["rm-ana"])
    mark = github_mode.mark()
    outcome = forge.candidate_pull_request_open(candidate_id=made.pk)
    branch = f"ewsdash/candidate-{made.pk}"
    # The branch is at the frozen commit at the real origin; the request is GitHub's own.
    assert world.origin_git("rev-parse", f"refs/heads/{branch}") == made.commit
    assert github_mode.requests_since(mark) == [(f"POST /repos/{PROJECT}/pulls", True)]
    made.refresh_from_db()
    assert made.forge_pull_request > 0
    assert outcome == f"pull request #{made.forge_pull_request} for candidate #{made.pk}"
    event = AuditEvent.objects.get(action="forge.pull_request_opened")
    assert event.payload == {
        "branch": branch,
        "commit": made.commit,
        "number": made.forge_pull_request,
    }
    body = forge.pull_request_body(made)
    assert f"https://ewsdash.example/r/pipeline/candidates/{made.pk}/" in body
    assert "lavender_haze" in body  # the changelog
    # Once opened, never again.
    mark = github_mode.mark()
    forge.candidate_pull_request_open(candidate_id=made.pk)
    assert github_mode.requests_since(mark) == []
