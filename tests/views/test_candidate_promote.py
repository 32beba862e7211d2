"""Promote: with every gate holding, the candidate is promoting and the git work queued."""

import pytest

from ewsdash import queue
from releases.models import Operation
from tests.promotion.factories import make_freeze
from tests.views.candidate_urls import action_url, detail_url
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def test_it_marks_an_approved_candidate_promoting_and_queues_the_work(post, approved, sent):
    response = post("rm-ana", action_url("candidate_promote", approved))

    assert response["Location"] == detail_url(approved)
    assert flashes(response) == ["Promotion started: the worker merges, tags and pushes."]
    approved.refresh_from_db()
    assert (approved.status, approved.promoted_by.username) == ("promoting", "rm-ana")
    # The git work is an operation row, recorded before anything is pushed, then queued.
    operation = Operation.objects.get(candidate=approved)
    assert (operation.kind, operation.status, operation.requested_by.username) == (
        "promote",
        "queued",
        "rm-ana",
    )
    assert sent == [
        (
            queue.OPERATION_RUN,
            {"operation_id": operation.pk, "soft_time_limit": None, "time_limit": None},
        )
    ]
    (event,) = events("candidate.promoting")
    assert (event.actor_name, event.payload["break_glass"]) == ("rm-ana", "")
    assert event.payload["operation"] == operation.pk
    assert len(events("operation.queued")) == 1


def test_it_refuses_a_candidate_not_yet_approved(post, validated, sent):
    response = post("rm-ana", action_url("candidate_promote", validated))

    assert flashes(response) == ["Still missing: Approvals: 0 of 2."]
    validated.refresh_from_db()
    assert validated.status == "validated" and sent == []


def test_it_refuses_during_a_freeze(post, approved, sent):
    make_freeze()

    response = post("rm-ana", action_url("candidate_promote", approved))

    assert "freeze" in flashes(response)[0].lower()
    approved.refresh_from_db()
    assert approved.status == "approved" and sent == [] and events("candidate.promoting") == []
