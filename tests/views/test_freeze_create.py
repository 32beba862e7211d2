"""Set a freeze window from the repository page's own form, as a browser posts it.

The form's fields are `datetime-local` inputs, which a browser submits as
"YYYY-MM-DDTHH:MM" without a time zone; the page says they are UTC.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from releases.models import FreezeWindow
from tests.views.conftest import events, flashes
from tests.views.forms import fill, form_posting_to

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("repository_overview", kwargs={"name": "pipeline"})
ACTION = reverse("freeze_create", kwargs={"name": "pipeline"})


def browser_value(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")  # what a datetime-local input submits


def test_it_sets_the_freeze_the_admin_typed_in_utc(login, post, registered):
    form = form_posting_to(login("admin").get(OVERVIEW).content.decode(), ACTION)
    assert form.method == "post"
    assert form.fields["starts_at"]["type"] == form.fields["ends_at"]["type"] == "datetime-local"
    starts = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    ends = starts + timedelta(hours=6, minutes=30)
    data = fill(
        form,
        starts_at=browser_value(starts),
        ends_at=browser_value(ends),
        reason="board meeting",
    )

    response = post("admin", ACTION, data)

    assert response["Location"] == OVERVIEW
    assert flashes(response) == ["Freeze window set."]
    window = FreezeWindow.objects.get()
    assert (window.starts_at, window.ends_at, window.reason) == (starts, ends, "board meeting")
    assert window.created_by.username == "admin"
    (event,) = events("freeze.created")
    assert event.actor_name == "admin"
    assert event.payload["starts_at"] == starts.isoformat()
    page = login("admin").get(OVERVIEW).content.decode()
    assert f"{starts:%Y-%m-%d %H:%M} – {ends:%Y-%m-%d %H:%M} UTC: board meeting" in page


def test_it_refuses_a_freeze_that_ends_before_it_starts(login, post, registered):
    form = form_posting_to(login("admin").get(OVERVIEW).content.decode(), ACTION)
    starts = datetime.now(UTC) + timedelta(days=2)
    data = fill(
        form,
        starts_at=browser_value(starts),
        ends_at=browser_value(starts - timedelta(hours=1)),
        reason="typo",
    )

    response = post("admin", ACTION, data)

    assert flashes(response) == ["A freeze must end after it starts."]
    assert not FreezeWindow.objects.exists() and events("freeze.created") == []


def test_it_refuses_a_time_that_is_not_one(post, registered):
    response = post(
        "admin", ACTION, {"starts_at": "tomorrow", "ends_at": "2030-01-01T10:00", "reason": "x"}
    )

    assert flashes(response) == ["Start must be a date and time (YYYY-MM-DD HH:MM)."]
    assert not FreezeWindow.objects.exists()


def test_the_form_is_only_on_the_page_of_those_who_may_use_it(login, registered):
    page = login("rm-ana").get(OVERVIEW).content.decode()
    assert ACTION not in page
