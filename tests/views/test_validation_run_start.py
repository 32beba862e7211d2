"""Validate a branch, tag or commit: the run is made for the commit and its checks queued."""

import time

import pytest
from django.urls import reverse

from ewsdash import queue
from monitoring.models import ValidationRun
from releases import git, sync
from releases.clones import PAGE_CLONE_WAIT, clone_dir
from releases.models import Repository
from tests.validation_runs.conftest import PASSING, commit_on
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db

URL = reverse("validation_run_start", kwargs={"name": "pipeline"})


def test_it_validates_the_branch_head_and_queues_its_checks(post, registered, world, sent):
    sha = commit_on(world, "development", "ci: declare the checks", {"ewsdash.toml": PASSING})
    sync.repository_sync(repository=Repository.objects.get(name="pipeline"))

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


def test_it_refuses_a_ref_the_last_sync_did_not_see(post, registered, sent):
    response = post("admin", URL, {"ref": "no-such-branch"})

    assert flashes(response) == [
        "'no-such-branch' is not a branch, a tag or a commit of pipeline as of its last "
        "sync: sync the repository (or let its webhook do it) and try again."
    ]
    assert not ValidationRun.objects.exists() and events("validation.started") == []


def test_it_never_fetches_in_the_request(post, registered, world, sent):
    """A branch pushed to the origin after the last sync is not fetched by the request:
    the request reads ewsdash's copy only (no request waits on the network)."""
    world.git("branch", "feature/new-model", "development")
    world.git("push", "origin", "feature/new-model")

    response = post("rm-ana", URL, {"ref": "feature/new-model"})

    assert "as of its last sync" in flashes(response)[0]
    assert not ValidationRun.objects.exists()
    sync.repository_sync(repository=Repository.objects.get(name="pipeline"))
    post("rm-ana", URL, {"ref": "feature/new-model"})
    assert ValidationRun.objects.count() == 1


def test_it_does_not_wait_for_a_busy_clone(post, registered, sent):
    """A worker holding the clone (fetching from a slow origin) makes the request refuse
    after PAGE_CLONE_WAIT seconds instead of waiting for it."""
    with git.clone_lock(clone_dir("pipeline")):
        started = time.monotonic()
        response = post("rm-ana", URL, {"ref": "development"})
        took = time.monotonic() - started

    assert flashes(response) == [
        "Cannot read pipeline's clone: the repository's clone is busy (a worker is talking "
        "to the origin); try again in a moment"
    ]
    assert PAGE_CLONE_WAIT <= took < PAGE_CLONE_WAIT + 3
    assert not ValidationRun.objects.exists()
