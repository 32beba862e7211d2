"""Take a production commit off the back-port ledger on purpose, with a reason."""

import pytest
from django.urls import reverse

from releases.models import BackportItem
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def wont_url(item) -> str:
    return reverse("backport_wont", kwargs={"name": "pipeline", "item_id": item.pk})


def test_it_closes_the_item_with_who_and_why(post, registered):
    item = BackportItem.objects.get(resolved_at=None)

    response = post("rm-ana", wont_url(item), {"reason": "pins pipeline-core 2.x on main"})

    assert response["Location"] == reverse("repository_overview", kwargs={"name": "pipeline"})
    assert flashes(response) == [
        f"{item.commit[:10]} will not be back-ported: pins pipeline-core 2.x on main"
    ]
    item.refresh_from_db()
    assert not item.is_open and item.reason == "pins pipeline-core 2.x on main"
    assert item.decided_by.username == "rm-ana"
    (event,) = events("backport.wont")
    assert (event.actor_name, event.payload["commit"]) == ("rm-ana", item.commit)


def test_it_needs_a_reason(post, registered):
    item = BackportItem.objects.get(resolved_at=None)

    response = post("rm-ana", wont_url(item), {"reason": "  "})

    assert flashes(response) == ["Say why development does not take this commit."]
    item.refresh_from_db()
    assert item.is_open and events("backport.wont") == []
