"""Reject: with a reason, it ends the candidate; without one, nothing changes."""

import pytest

from releases.models import Approval
from tests.views.candidate_urls import action_url, detail_url
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def test_it_rejects_the_candidate_with_the_reason(post, validated):
    response = post("rm-ben", action_url("candidate_reject", validated), {"reason": "bad MSE"})

    assert response["Location"] == detail_url(validated)
    assert flashes(response) == ["The candidate is rejected."]
    validated.refresh_from_db()
    assert (validated.status, validated.status_reason) == ("rejected", "bad MSE")
    rejection = Approval.objects.get()
    assert (rejection.user.username, rejection.decision) == ("rm-ben", "reject")
    (event,) = events("candidate.rejected")
    assert (event.actor_name, event.payload["reason"]) == ("rm-ben", "bad MSE")


def test_it_needs_a_reason(post, validated):
    response = post("rm-ben", action_url("candidate_reject", validated), {"reason": " "})

    assert flashes(response) == ["A rejection needs a reason."]
    validated.refresh_from_db()
    assert validated.status == "validated" and events("candidate.rejected") == []
