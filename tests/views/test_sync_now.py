"""Sync now: the sync is queued for the worker and the audit log says who asked."""

import pytest
from django.urls import reverse

from ewsdash import queue
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def test_it_queues_a_sync_and_records_who_asked(post, registered, users, sent):
    response = post("rm-ana", reverse("sync_now", kwargs={"name": "pipeline"}))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("branch_list", kwargs={"name": "pipeline"}))
    assert "?since=" in response["Location"]  # the branch page waits for a newer sync
    assert [task for task, _ in sent] == [queue.REPOSITORY_SYNC]
    assert sent[0][1]["repository_id"] == registered.pk
    (event,) = events("repository.sync_requested")
    assert (event.actor_name, event.repository_name) == ("rm-ana", "pipeline")
    assert flashes(response) == ["Sync of pipeline queued."]


def test_it_queues_nothing_for_a_viewer(post, registered, sent):
    response = post("viewer", reverse("sync_now", kwargs={"name": "pipeline"}))

    assert response.status_code == 403
    assert sent == [] and events("repository.sync_requested") == []
