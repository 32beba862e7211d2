"""Saving your notification settings: the boxes ticked are the events you are e-mailed
about, every other one is off; audited; an unknown event key is refused."""

import pytest
from django.urls import reverse

from notifications.audiences import preferences_of
from notifications.models import Preference
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db

URL = reverse("notification_preferences_save")


def test_it_stores_the_choice_for_every_event(post, users, registered):
    response = post("viewer", URL, {"email": ["approval_requested", "promoted"]})

    assert response["Location"] == reverse("notification_preferences")
    rows = {row.key: row.email for row in preferences_of(user=users["viewer"])}
    assert rows["approval_requested"] and rows["promoted"]
    assert not rows["rolled_back"]  # on by default for a viewer, now off
    assert Preference.objects.filter(user=users["viewer"]).count() == len(rows)
    (event,) = events("notification_preferences.changed")
    assert event.actor_name == "viewer"
    assert event.payload["email_on"] == ["approval_requested", "promoted"]
    assert "rolled_back" in event.payload["changed"]
    assert flashes(response)[0].startswith("Saved:")


def test_the_page_shows_the_choice(post, login, users, registered):
    post("viewer", URL, {"email": ["freeze_started"]})
    page = login("viewer").get(reverse("notification_preferences")).content.decode()
    assert 'value="freeze_started" aria-label="E-mail me: freeze_started" checked' in page
    assert 'value="promoted" aria-label="E-mail me: promoted" >' in page


def test_it_refuses_an_unknown_event(post, users, registered):
    response = post("viewer", URL, {"email": ["everything"]})

    assert flashes(response) == ["Unknown events: everything."]
    assert not Preference.objects.exists()
    assert events("notification_preferences.changed") == []
