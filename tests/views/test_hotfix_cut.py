"""Cut a hotfix branch: pushed to the origin from production's head, recorded, synced."""

import pytest
from django.urls import reverse

from releases.models import Branch, Operation
from tests.promotion.factories import carry_out
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db

URL = reverse("hotfix_cut", kwargs={"name": "pipeline"})


def test_it_pushes_the_branch_from_production_and_records_it(post, registered, world, sent):
    production = world.origin_git("rev-parse", "refs/heads/production").strip()

    response = post("rm-ana", URL, {"name": "fix-missing-countries"})

    operation = Operation.objects.get()
    assert response["Location"] == reverse(
        "operation_detail", kwargs={"name": "pipeline", "pk": operation.pk}
    )
    assert flashes(response)[0].startswith(
        "hotfix/fix-missing-countries is being created from production's head"
    )
    assert "hotfix/fix-missing-countries" not in world.origin_git("branch", "--list", "hotfix/*")
    carry_out(operation)
    pushed = world.origin_git("rev-parse", "refs/heads/hotfix/fix-missing-countries").strip()
    assert pushed == production
    (event,) = events("hotfix.cut")
    assert event.actor_name == "rm-ana"
    assert event.payload == {
        "branch": "hotfix/fix-missing-countries",
        "from": production,
        "operation": operation.pk,
    }
    # The page shows it without waiting for the next scheduled sync.
    assert Branch.objects.filter(
        repository=registered, name="hotfix/fix-missing-countries"
    ).exists()


def test_it_refuses_a_name_git_or_people_would_trip_over(post, registered, world):
    response = post("rm-ana", URL, {"name": "Fix Countries"})

    assert flashes(response)[0].startswith("A hotfix name uses lower-case letters")
    assert "hotfix/Fix Countries" not in world.origin_git("branch", "--list", "hotfix/*")
    assert events("hotfix.cut") == []


def test_it_refuses_a_branch_that_exists(post, registered):
    response = post("admin", URL, {"name": "urgent"})  # the test world's hotfix/urgent

    assert flashes(response) == ["The branch hotfix/urgent already exists."]
    assert events("hotfix.cut") == []
