"""Roll production back: a new commit with the old release's tree, tagged, pushed, recorded."""

import pytest
from django.urls import reverse

from releases.models import Operation, Release
from tests.promotion.factories import carry_out, make_freeze
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db

URL = reverse("rollback_confirm", kwargs={"name": "pipeline", "version": "1.0.0"})


def test_it_restores_the_release_tree_as_a_new_tagged_release(post, registered, world, sent):
    old_head = world.origin_git("rev-parse", "refs/heads/production").strip()

    response = post("admin", URL, {"confirm": "yes", "reason": "bad forecasts"})

    operation = Operation.objects.get()
    assert response["Location"] == reverse(
        "operation_detail", kwargs={"name": "pipeline", "pk": operation.pk}
    )
    assert flashes(response) == ["Rollback to v1.0.0 queued: a worker commits, tags and pushes it."]
    assert world.origin_git("rev-parse", "refs/heads/production").strip() == old_head
    carry_out(operation)
    rollback = Release.objects.get(kind="rollback")
    head = world.origin_git("rev-parse", "refs/heads/production").strip()
    assert head == rollback.commit
    assert world.origin_git("rev-parse", f"{head}^").strip() == old_head  # history kept
    assert world.origin_git("rev-parse", f"{head}^{{tree}}") == world.origin_git(
        "rev-parse", "v1.0.0^{tree}"
    )
    assert world.origin_git("rev-parse", f"{rollback.tag}^{{commit}}").strip() == head
    (event,) = events("release.rolled_back")
    assert event.actor_name == "admin"
    assert (event.payload["restores"], event.payload["reason"]) == ("1.0.0", "bad forecasts")


def test_it_needs_the_confirmation_box(post, registered, world):
    head = world.origin_git("rev-parse", "refs/heads/production")

    response = post("admin", URL, {"reason": "bad forecasts"})

    assert flashes(response) == ["Tick the confirmation box to roll production back."]
    assert world.origin_git("rev-parse", "refs/heads/production") == head
    assert not Release.objects.filter(kind="rollback").exists()


def test_it_asks_for_a_reason_to_break_a_freeze(post, registered):
    make_freeze()

    response = post("admin", URL, {"confirm": "yes", "reason": "bad forecasts"})

    assert "give a reason to break the glass" in flashes(response)[0]
    assert events("release.rolled_back") == []
