"""With a real Celery worker: "Sync now" enqueues, the worker syncs, the page shows it."""

import pytest
from django.urls import reverse

from releases import services, sync
from releases.models import AuditEvent, Branch
from tests.support.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_sync_now_is_run_by_the_worker_and_shown_on_the_page(celery_worker_process, login, world):
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    client = login("rm-ana")
    response = client.post_form(reverse("sync_now", kwargs={"name": "pipeline"}))
    assert response.status_code == 302

    wait_for(
        lambda: Branch.objects.filter(repository=repository).count() == 5,
        timeout=60,
        message="the worker did not record the branches",
    )
    html = client.get(response["Location"]).content.decode()
    assert "Development is 2 commits behind production" in html
    assert 'data-branch="feature/open-work"' in html
    assert "hx-trigger" not in html  # the page stops polling once the sync is done
    synced = AuditEvent.objects.get(action="repository.synced")
    assert synced.actor_name == "rm-ana"


def test_the_worker_records_a_new_branch_pushed_after_the_first_sync(
    celery_worker_process, login, world
):
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    sync.repository_sync(repository=repository)
    world.checkout("feature/late", new_from="development")
    world.commit("feat: pushed later")
    world.push("feature/late")
    login("rm-ana").post_form(reverse("sync_now", kwargs={"name": "pipeline"}))
    branch = wait_for(
        lambda: Branch.objects.filter(repository=repository, name="feature/late").first(),
        timeout=60,
    )
    assert branch.head == world.head("feature/late")


def test_the_beat_task_fans_out_one_sync_per_repository(celery_worker_process, world):
    from releases.tasks import repositories_sync_all

    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    repositories_sync_all.delay()
    wait_for(lambda: Branch.objects.filter(repository=repository).count() == 5, timeout=60)
