"""Re-run a finished run: a new attempt of the same commit, queued, audited as a re-run."""

import pytest
from django.urls import reverse

from ewsdash import queue
from monitoring import runs
from monitoring.models import ValidationRun
from tests.validation_runs.conftest import PASSING, commit_on
from tests.validation_runs.factories import make_run
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def rerun_url(run: ValidationRun) -> str:
    return reverse("validation_run_rerun", kwargs={"name": "pipeline", "run_id": run.pk})


def test_it_starts_the_next_attempt_of_the_same_commit(post, registered, world, sent):
    sha = commit_on(world, "development", "ci: declare the checks", {"ewsdash.toml": PASSING})
    first = runs.validation_run_start(
        repository=registered, commit=sha, actor="test", purpose="manual"
    )
    ValidationRun.objects.filter(pk=first.pk).update(status="failed")
    first.checks.update(status="failed")
    sent.clear()

    response = post("rm-ana", rerun_url(first))

    again = ValidationRun.objects.exclude(pk=first.pk).get()
    assert response["Location"] == reverse(
        "validation_run_detail", kwargs={"name": "pipeline", "run_id": again.pk}
    )
    assert (again.commit, again.attempt, again.created_by.username) == (sha, 2, "rm-ana")
    assert [task for task, _ in sent] == [queue.CHECK_RESULT_RUN]
    (event,) = events("validation.rerun")
    assert (event.actor_name, event.payload["attempt"]) == ("rm-ana", 2)


def test_it_refuses_to_rerun_a_run_still_running(post, registered, sent):
    run = make_run(status="running")

    response = post("admin", rerun_url(run))

    assert response["Location"] == rerun_url(run).replace("rerun/", "")
    assert flashes(response) == [f"Run #{run.pk} is still running; cancel it first."]
    assert ValidationRun.objects.count() == 1 and sent == []
