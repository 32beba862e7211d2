"""POST /api/v1/repositories/{name}/outcomes: the same service, audit and queued update."""

from __future__ import annotations

import pytest

from monitoring.models import Outcome, OutcomeRevision
from releases.models import AuditEvent
from tests.skill.factories import outcome_rows
from tests.support.queued import enqueued

pytestmark = pytest.mark.django_db
URL = "/api/v1/repositories/pipeline/outcomes"


def test_it_records_a_revision_as_the_tokens_user(
    registered, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client("rm-ana").post_json(
            URL, {"rows": outcome_rows(range(540, 542)), "note": "UCDP candidate 25.1"}
        )
    assert response.status_code == 201, response.content
    body = response.json()
    revision = OutcomeRevision.objects.get(pk=body["revision"])
    assert body == {"revision": revision.pk, "rows": 12, "changed": 12}
    assert revision.source == "api" and revision.note == "UCDP candidate 25.1"
    assert revision.recorded_by.username == "rm-ana"
    assert Outcome.objects.count() == 12
    event = AuditEvent.objects.get(action="outcomes.recorded")
    assert event.payload["via"].startswith("api token") and event.actor_name == "rm-ana"
    assert len(enqueued(callbacks)) == 1


def test_it_answers_a_bad_row_with_a_problem_and_records_nothing(registered, api_client):
    rows = outcome_rows(range(540, 541))
    rows[3]["value"] = -2
    response = api_client("rm-ana").post_json(URL, {"rows": rows})
    assert response.status_code == 400  # the schema refuses it (value >= 0)
    assert response["Content-Type"].startswith("application/problem+json")
    assert not Outcome.objects.exists() and not OutcomeRevision.objects.exists()


def test_it_refuses_an_analyst(registered, api_client):
    response = api_client("analyst").post_json(URL, {"rows": outcome_rows(range(540, 541))})
    assert response.status_code == 403
    assert not Outcome.objects.exists()
