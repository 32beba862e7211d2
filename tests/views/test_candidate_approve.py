"""Approve: the approval is recorded for the commit and run; enough of them approve it."""

import pytest

from releases.models import Approval
from tests.views.candidate_urls import action_url, detail_url
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def test_it_records_the_approval_for_the_commit_and_run(post, validated):
    response = post("rm-ben", action_url("candidate_approve", validated), {"comment": "fine"})

    assert response["Location"] == detail_url(validated)
    assert flashes(response) == ["Your approval is recorded."]
    approval = Approval.objects.get()
    assert (approval.user.username, approval.decision, approval.comment) == (
        "rm-ben",
        "approve",
        "fine",
    )
    assert (approval.commit, approval.validation_run_id) == (
        validated.commit,
        validated.validation_run_id,
    )
    validated.refresh_from_db()
    assert validated.status == "validated"  # one of two required approvals
    (event,) = events("candidate.approval")
    assert (event.actor_name, event.payload["comment"]) == ("rm-ben", "fine")


def test_it_approves_the_candidate_at_the_second_approval(post, validated):
    post("rm-ben", action_url("candidate_approve", validated))
    post("admin", action_url("candidate_approve", validated))

    validated.refresh_from_db()
    assert validated.status == "approved"
    (event,) = events("candidate.approved")
    assert (event.actor_name, event.payload["from"], event.payload["to"]) == (
        "admin",
        "validated",
        "approved",
    )


def test_it_refuses_the_creator_with_the_reason(post, validated):
    response = post(
        "rm-ana", action_url("candidate_approve", validated), HTTP_REFERER=detail_url(validated)
    )

    assert response["Location"] == detail_url(validated)
    assert flashes(response) == [
        "You created this candidate; another release manager must approve it."
    ]
    assert not Approval.objects.exists() and events("candidate.approval") == []
