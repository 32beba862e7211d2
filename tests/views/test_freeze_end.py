"""End a freeze now: the window stays on record with its end moved to now."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.promotion.factories import make_freeze
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def end_url(window) -> str:
    return reverse("freeze_end", kwargs={"name": "pipeline", "pk": window.pk})


def test_it_ends_an_active_freeze_now(post, registered):
    window = make_freeze()
    before = timezone.now()

    response = post("admin", end_url(window))

    assert response["Location"] == reverse("repository_overview", kwargs={"name": "pipeline"})
    assert flashes(response) == ["Freeze ended."]
    window.refresh_from_db()
    assert before <= window.ends_at <= timezone.now()
    assert window.reason == "quarterly board meeting"  # kept on record
    (event,) = events("freeze.ended")
    assert (event.actor_name, event.object_id) == ("admin", str(window.pk))


def test_it_keeps_a_planned_freeze_as_a_zero_length_window(post, registered):
    window = make_freeze(starts_in=timedelta(days=3))

    post("admin", end_url(window))

    window.refresh_from_db()
    assert window.starts_at < window.ends_at <= timezone.now()


def test_it_says_an_ended_freeze_is_over(post, registered):
    window = make_freeze(starts_in=timedelta(days=-3), lasts=timedelta(days=1))

    response = post("admin", end_url(window))

    assert flashes(response) == ["That freeze is already over."]
    assert events("freeze.ended") == []
