"""Releases ewsdash makes itself (promotion, rollback) get their deployment status read."""

import pytest

from ewsdash import queue
from monitoring import tasks
from monitoring.deployment_selectors import deployments_json
from releases import candidates, operation_runner, operations
from releases.models import Release
from tests.promotion.factories import carry_out

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """The messages services send once their transactions commit: (task, kwargs)."""
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(queue, "enqueue", lambda task, **kwargs: sent.append((task, kwargs)))
    return sent


def run_deployment_tasks(sent) -> None:
    for task, kwargs in sent:
        if task == queue.DEPLOYMENT_CONFIGS_RECORD:
            tasks.deployment_configs_record(repository_id=kwargs["repository_id"])
    sent.clear()


def test_promoted_and_rolled_back_releases_are_read(
    approved, repo, users, world, queued, django_capture_on_commit_callbacks
):
    world.checkout("development")
    world.commit(
        "feat(models): deploy bad_blood",
        files={
            "models/bad_blood/configs/config_deployment.py": (
                "def get_deployment_config():\n"
                "    deployment_config = {'deployment_status': 'deployed'}\n"
                "    return deployment_config\n"
            )
        },
    )
    world.push("development")
    with django_capture_on_commit_callbacks(execute=True):
        candidates.candidate_promote(candidate=approved, actor=users["rm-ben"])
    queued.clear()  # the promote task itself: run inline below
    with django_capture_on_commit_callbacks(execute=True):
        assert operation_runner.promotion_run(candidate_id=approved.pk).startswith(
            "released v1.1.0"
        )
    run_deployment_tasks(queued)
    found = deployments_json(repository=repo)
    # The frozen commit predates bad_blood: v1.1.0 and production carry no model yet.
    assert found["releases"]["1.1.0"] == [] and found["production"] == []
    assert [i["name"] for i in found["development"]] == ["bad_blood"]
    assert found["releases"]["1.0.0"] == []

    v100 = Release.objects.get(repository=repo, version="1.0.0")
    with django_capture_on_commit_callbacks(execute=True):
        operation = carry_out(
            operations.release_rollback(
                repository=repo, target=v100, actor=users["admin"], reason="bad forecast"
            )
        )
    rollback = Release.objects.get(pk=operation.result["release_id"])
    run_deployment_tasks(queued)
    found = deployments_json(repository=repo)
    assert found["releases"][rollback.version] == []  # read, not "not read yet" (null)
    assert found["production"] == []
