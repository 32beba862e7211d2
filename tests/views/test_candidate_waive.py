"""Waive: an admin lets a candidate whose validation failed proceed, with a reason."""

import pytest

from tests.views.candidate_urls import action_url, detail_url
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def test_it_validates_the_candidate_and_keeps_the_reason(post, candidate):
    assert candidate.status == "validation_failed"  # no manifest in the test world

    response = post("admin", action_url("candidate_waive", candidate), {"reason": "known gap"})

    assert response["Location"] == detail_url(candidate)
    assert flashes(response) == ["Validation waived."]
    candidate.refresh_from_db()
    assert candidate.status == "validated"
    assert (candidate.waived_by.username, candidate.waiver_reason) == ("admin", "known gap")
    (event,) = events("candidate.validation_waived")
    assert (event.actor_name, event.payload["reason"]) == ("admin", "Waived by admin: known gap")


def test_it_needs_a_reason(post, candidate):
    response = post("admin", action_url("candidate_waive", candidate))

    assert flashes(response) == ["A waiver needs a reason."]
    candidate.refresh_from_db()
    assert candidate.status == "validation_failed" and candidate.waived_by is None
