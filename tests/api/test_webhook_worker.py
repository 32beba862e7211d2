"""With a real worker: a GitHub push webhook makes the push visible on the branch page
within 2 seconds (issue 15), instead of at the next 5-minute poll."""

import time

import pytest
from django.test import Client
from django.urls import reverse

from releases import services, sync
from tests.api import webhook_payloads as p
from tests.support.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
LIMIT_S = 2.0


def push_and_hook(world, client: Client, message: str) -> str:
    world.checkout("development")
    world.commit(message, files={f"notes/{message.split()[-1]}.txt": message})
    world.push("development")
    head = world.head("development")
    response = p.post_github(client, "push", p.push(after=head))
    assert response.status_code == 202
    return head


def test_a_pushed_commit_is_on_the_branch_page_within_2_seconds(
    celery_worker_process, login, world
):
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    sync.repository_sync(repository=repository)
    page = login("viewer")
    url = reverse("branch_list", kwargs={"name": "pipeline"})

    def shows(head: str) -> bool:
        return head[:8] in page.get(url).content.decode()

    # The first delivery warms the worker up (imports, the clone's first fetch).
    first = push_and_hook(world, Client(), "feat: first notes one")
    wait_for(lambda: shows(first), timeout=60, interval=0.05)

    began = time.monotonic()
    second = push_and_hook(world, Client(), "feat: second notes two")
    wait_for(lambda: shows(second), timeout=60, interval=0.05)
    elapsed = time.monotonic() - began
    print(f"push visible on the branch page {elapsed:.2f} s after the webhook")
    assert elapsed < LIMIT_S
