"""github mode end to end: a real worker publishes ewsdash/gates on GitHub's contract
(Prism, tests/support/prism.py) as the candidate moves, green once every gate holds."""

from __future__ import annotations

import pytest

from releases import candidates, services, sync
from releases.audit import AuditEvent
from releases.models import Forge
from tests.promotion.conftest import make_promotable, waive
from tests.support.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def published(candidate_id: int) -> list[str]:
    return [
        event.payload["state"]
        for event in AuditEvent.objects.filter(
            action="forge.status_published", object_id=str(candidate_id)
        ).order_by("seq")
    ]


def test_the_worker_turns_the_status_green_when_the_gates_hold(
    github_mode, celery_worker_process, world, users
):
    make_promotable(world)
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    repository.forge, repository.forge_project = Forge.GITHUB, "views-platform/pipeline"
    repository.save()
    sync.repository_sync(repository=repository)
    mark = github_mode.mark()

    candidate = candidates.candidate_create(repository=repository, actor=users["rm-ana"])
    # No manifest in this repository: validation fails, and the status says so.
    wait_for(lambda: "failure" in published(candidate.pk), timeout=60, message="failure")
    waive(candidate, users)
    candidates.candidate_approve(candidate=candidate, actor=users["rm-ben"])
    candidates.candidate_approve(candidate=candidate, actor=users["admin"])
    wait_for(lambda: "success" in published(candidate.pk), timeout=60, message="success")

    sent = github_mode.requests_since(mark)
    # Every request met GitHub's description; the pull request was opened once.
    assert sent and all(valid for _, valid in sent), sent
    statuses = f"POST /repos/views-platform/pipeline/statuses/{candidate.commit}"
    assert {request for request, _ in sent} == {
        "POST /repos/views-platform/pipeline/pulls",
        statuses,
    }
    assert [request for request, _ in sent].count("POST /repos/views-platform/pipeline/pulls") == 1
    candidate.refresh_from_db()
    assert candidate.forge_pull_request > 0
    assert not AuditEvent.objects.filter(action="forge.status_failed").exists()
