"""Validate a branch, tag or commit: the run is made for the commit and its checks queued."""

import pytest
from django.urls import reverse

from ewsdash import queue
from monitoring.models import ValidationRun
from tests.validation_runs.conftest import PASSING, commit_on
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db

URL = reverse("validation_run_start", kwargs={"name": "pipeline"})


def test_it_validates_the_branch_head_and_queues_its_checks(post, registered, world, sent):
    sha = commit_on(world, "development", "ci: declare the checks", {"ewsdash.toml": PASSING})

    response = post("rm-ana", URL, {"ref": "development"})

    run = ValidationRun.objects.get()
    assert response["Location"] == reverse(
        "validation_run_detail", kwargs={"name": "pipeline", "run_id": run.pk}
    )
    assert (run.commit, run.purpose, run.created_by.username) == (sha, "manual", "rm-ana")
    (check,) = run.checks.all()
    assert (check.name, check.status) == ("unit-tests", "queued")
    assert [(task, kwargs["check_id"]) for task, kwargs in sent] == [
        (queue.CHECK_RESULT_RUN, check.pk)
    ]
    (event,) = events("validation.started")
    assert (event.actor_name, event.payload["commit"]) == ("rm-ana", sha)


def test_it_asks_for_a_ref_when_none_is_given(post, registered, sent):
    response = post("rm-ana", URL, {"ref": "  "})

    assert response["Location"] == reverse("monitoring_home", kwargs={"name": "pipeline"})
    assert flashes(response) == ["Name a branch, a tag or a commit to validate."]
    assert not ValidationRun.objects.exists() and sent == []


def test_it_refuses_a_ref_the_origin_does_not_have(post, registered, sent):
    response = post("admin", URL, {"ref": "no-such-branch"})

    assert "is neither a branch, a tag nor a commit" in flashes(response)[0]
    assert not ValidationRun.objects.exists() and events("validation.started") == []
