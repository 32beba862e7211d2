"""Create a candidate: the request records the intent (an operation) and returns; the
worker's half freezes the commit, proposes the version, starts validation, audits."""

import pytest
from django.urls import reverse

from releases import operation_runner
from releases.models import Operation, PromotionCandidate
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db

URL = reverse("candidate_create", kwargs={"name": "pipeline"})


def operation_url(operation: Operation) -> str:
    return reverse("operation_detail", kwargs={"name": "pipeline", "pk": operation.pk})


def test_it_records_the_intent_and_queues_the_worker(post, repo, sent):
    response = post("rm-ana", URL, {"source": "development", "version": ""})

    operation = Operation.objects.get()
    assert (operation.kind, operation.status) == ("candidate_create", "queued")
    assert operation.params == {"source": "development", "version": ""}
    assert response["Location"] == operation_url(operation)
    assert flashes(response) == [
        f"Candidate creation queued (operation #{operation.pk}): a worker reads development "
        "from the origin and starts its staging validation."
    ]
    assert [(task, kwargs["operation_id"]) for task, kwargs in sent] == [
        ("releases.tasks.operation_run", operation.pk)
    ]
    assert not PromotionCandidate.objects.exists()
    (event,) = events("operation.queued")
    assert event.actor_name == "rm-ana" and event.payload["kind"] == "candidate_create"


def test_its_worker_creates_the_candidate_with_its_validation(post, repo, world, sent):
    development = world.origin_git("rev-parse", "refs/heads/development").strip()
    post("rm-ana", URL, {"source": "development", "version": ""})

    operation_runner.operation_run(operation_id=Operation.objects.get().pk)

    candidate = PromotionCandidate.objects.get()
    operation = Operation.objects.get()
    assert (operation.status, operation.candidate) == ("succeeded", candidate)
    assert (candidate.source_branch, candidate.commit) == ("development", development)
    assert (candidate.version, candidate.bump) == ("1.1.0", "minor")  # feat commits since 1.0.0
    assert candidate.created_by.username == "rm-ana"
    assert candidate.validation_run.commit == development
    # No manifest in the test world: validation fails at once, and the candidate says so.
    assert candidate.status == "validation_failed"
    (event,) = events("candidate.created")
    assert event.actor_name == "rm-ana"
    assert (event.payload["source"], event.payload["version"]) == ("development", "1.1.0")


def test_it_takes_a_version_override(post, repo, sent):
    post("rm-ana", URL, {"source": "development", "version": "2.0.0"})
    operation_runner.operation_run(operation_id=Operation.objects.get().pk)

    assert PromotionCandidate.objects.get().version == "2.0.0"


def test_it_refuses_a_version_that_is_no_version_at_once(post, repo, sent):
    response = post("rm-ana", URL, {"source": "development", "version": "x" * 306})

    assert flashes(response)[0].endswith("is not a semantic version (1.4.0).")
    assert not Operation.objects.exists() and sent == []


def test_it_refuses_a_source_that_gives_no_candidate_at_once(post, repo, sent):
    response = post("rm-ana", URL, {"source": "feature/drift"})

    assert flashes(response)[0].startswith("Candidates come from development")
    assert not Operation.objects.exists() and sent == []


def test_a_branch_the_origin_does_not_have_fails_the_operation_with_the_reason(post, repo, sent):
    post("rm-ana", URL, {"source": "hotfix/nope"})
    operation_runner.operation_run(operation_id=Operation.objects.get().pk)

    operation = Operation.objects.get()
    assert operation.status == "failed"
    assert operation.error == "There is no branch 'hotfix/nope' at the origin."
    assert not PromotionCandidate.objects.exists() and events("candidate.created") == []


@pytest.mark.parametrize("field", ["source", "version"])
def test_it_refuses_control_characters_at_once(post, repo, sent, field):
    data = {"source": "development", "version": ""}
    data[field] += "\x00x"

    response = post("rm-ana", URL, data)

    assert flashes(response) == ["Branch names and versions have no control characters."]
    assert not Operation.objects.exists() and sent == []
