"""Reconcile an operation whose worker died: settled by what the origin shows (admins)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from releases.models import Operation
from tests.promotion.factories import running_operation
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def url(pk: int) -> str:
    return reverse("operation_reconcile", kwargs={"name": "pipeline", "pk": pk})


def test_it_refuses_while_the_worker_still_reports(post, registered):
    pk = running_operation()

    response = post("admin", url(pk))

    assert "may still be pushing" in flashes(response)[0]
    assert Operation.objects.get(pk=pk).status == "running"
    assert events("operation.reconciled") == []


def test_it_fails_an_operation_whose_push_never_reached_the_origin(post, registered, world):
    pk = running_operation()
    Operation.objects.filter(pk=pk).update(
        heartbeat_at=timezone.now() - timedelta(hours=1),
        planned={"refs/heads/development": "0" * 40},
    )
    development = world.origin_git("rev-parse", "development")

    response = post("admin", url(pk))

    assert response["Location"] == reverse(
        "operation_detail", kwargs={"name": "pipeline", "pk": pk}
    )
    assert flashes(response)[0].startswith("Reconciled with the origin")
    operation = Operation.objects.get(pk=pk)
    assert (operation.status, operation.reconciled) == ("failed", True)
    assert "nothing was pushed" in operation.error
    assert world.origin_git("rev-parse", "development") == development
    (event,) = events("operation.reconciled")
    assert (event.actor_name, event.payload["outcome"]) == ("admin", "failed")
