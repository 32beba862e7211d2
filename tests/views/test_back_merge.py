"""Merge production into development: recorded as an operation, then a real merge commit,
pushed by the worker, recorded."""

import pytest
from django.urls import reverse

from releases.models import Operation
from tests.promotion.factories import carry_out
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db

URL = reverse("back_merge", kwargs={"name": "pipeline"})


def operation_url(operation) -> str:
    return reverse("operation_detail", kwargs={"name": "pipeline", "pk": operation.pk})


def test_it_pushes_a_merge_of_production_into_development(post, registered, world, sent):
    production = world.origin_git("rev-parse", "refs/heads/production").strip()
    development = world.origin_git("rev-parse", "refs/heads/development").strip()

    response = post("rm-ana", URL)

    operation = Operation.objects.get()
    assert response["Location"] == operation_url(operation)
    assert flashes(response) == [
        "Merging production into development (development keeps its content): a worker "
        "merges and pushes."
    ]
    # The request pushed nothing: the worker does.
    assert world.origin_git("rev-parse", "refs/heads/development").strip() == development
    operation = carry_out(operation)
    merge = world.origin_git("rev-parse", "refs/heads/development").strip()
    parents = world.origin_git("rev-list", "--parents", "-n", "1", merge).split()[1:]
    assert parents == [development, production]
    assert operation.progress == f"production merged into development ({merge[:10]})"
    (event,) = events("development.back_merged")
    assert event.actor_name == "rm-ana"
    assert event.payload == {
        "merge": merge,
        "production": production,
        "development": development,
        "rollbacks_recorded_as_merged": [],
        "rollbacks_applied": [],
        "operation": operation.pk,
    }


def test_it_says_when_there_is_nothing_to_merge(post, registered, sent):
    carry_out(Operation.objects.get(pk=_queued(post)))

    response = post("admin", URL)

    operation = carry_out(Operation.objects.latest("pk"))
    assert response["Location"] == operation_url(operation)
    assert (operation.status, operation.error) == (
        "failed",
        "Development already contains production.",
    )
    assert len(events("development.back_merged")) == 1


def _queued(post) -> int:
    post("rm-ana", URL)
    return Operation.objects.latest("pk").pk
