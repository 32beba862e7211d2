"""Acknowledge an incident (admins): adopt it with a reason, or roll it back."""

import pytest
from django.urls import reverse

from releases.models import Incident, Operation
from tests.promotion.factories import open_incident
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def url(pk: int) -> str:
    return reverse("incident_acknowledge", kwargs={"name": "pipeline", "pk": pk})


def test_it_adopts_the_change_with_a_reason(post, registered, users):
    pk = open_incident()

    response = post("admin", url(pk), {"resolution": "adopted", "reason": "on-call fix"})

    assert flashes(response) == ["Incident acknowledged; promotions are open again."]
    incident = Incident.objects.get(pk=pk)
    assert (incident.resolution, incident.reason, incident.acknowledged_by) == (
        "adopted",
        "on-call fix",
        users["admin"],
    )
    (event,) = events("incident.acknowledged")
    assert event.payload["resolution"] == "adopted"


def test_it_needs_a_reason(post, registered):
    pk = open_incident()

    response = post("admin", url(pk), {"resolution": "adopted"})

    assert flashes(response) == ["Acknowledging an incident needs a reason."]
    assert Incident.objects.get(pk=pk).is_open and events("incident.acknowledged") == []


def test_rolling_back_queues_the_rollback_operation(post, registered, sent):
    pk = open_incident()

    response = post(
        "admin",
        url(pk),
        {"resolution": "rolled_back", "rollback_to": "1.0.0", "reason": "not approved"},
    )

    operation = Operation.objects.get()
    assert (operation.kind, operation.params["target"]) == ("rollback", "1.0.0")
    assert response["Location"] == reverse(
        "operation_detail", kwargs={"name": "pipeline", "pk": operation.pk}
    )
    assert Incident.objects.get(pk=pk).operation == operation
