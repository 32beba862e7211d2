"""Merge production into development: a real merge commit, pushed, recorded."""

import pytest
from django.urls import reverse

from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db

URL = reverse("back_merge", kwargs={"name": "pipeline"})


def test_it_pushes_a_merge_of_production_into_development(post, registered, world):
    production = world.origin_git("rev-parse", "refs/heads/production").strip()
    development = world.origin_git("rev-parse", "refs/heads/development").strip()

    response = post("rm-ana", URL)

    assert response["Location"] == reverse("repository_overview", kwargs={"name": "pipeline"})
    merge = world.origin_git("rev-parse", "refs/heads/development").strip()
    parents = world.origin_git("rev-list", "--parents", "-n", "1", merge).split()[1:]
    assert parents == [development, production]
    assert flashes(response) == [f"Production merged into development ({merge[:10]}) and pushed."]
    (event,) = events("development.back_merged")
    assert event.actor_name == "rm-ana"
    assert event.payload == {"merge": merge, "production": production, "development": development}


def test_it_says_when_there_is_nothing_to_merge(post, registered):
    post("rm-ana", URL)

    response = post("admin", URL)

    assert flashes(response) == ["Development already contains production."]
    assert len(events("development.back_merged")) == 1
