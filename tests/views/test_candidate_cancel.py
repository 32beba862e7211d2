"""Cancel: its creator (or an admin) withdraws the candidate; others are told why not."""

import pytest

from tests.views.candidate_urls import action_url, detail_url
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def test_it_lets_the_creator_withdraw_the_candidate(post, validated):
    response = post("rm-ana", action_url("candidate_cancel", validated))

    assert response["Location"] == detail_url(validated)
    assert flashes(response) == ["The candidate is cancelled."]
    validated.refresh_from_db()
    assert (validated.status, validated.status_reason) == ("cancelled", "Cancelled by rm-ana")
    (event,) = events("candidate.cancelled")
    assert (event.actor_name, event.payload["from"]) == ("rm-ana", "validated")


def test_it_refuses_another_release_manager(post, validated):
    response = post("rm-ben", action_url("candidate_cancel", validated))

    assert flashes(response) == ["Only the candidate's creator or an admin can cancel it."]
    validated.refresh_from_db()
    assert validated.status == "validated" and events("candidate.cancelled") == []
