"""Cancel a run: checks not started are cancelled at once, the run ends, the log says who."""

import pytest
from django.urls import reverse

from monitoring.models import CheckResult, ValidationRun
from tests.validation_runs.factories import make_run
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def cancel_url(run: ValidationRun) -> str:
    return reverse("validation_run_cancel", kwargs={"name": "pipeline", "run_id": run.pk})


def test_it_cancels_the_checks_not_started_and_ends_the_run(post, registered):
    run = make_run(status="running", checks=2)
    run.checks.update(status="queued")

    response = post("rm-ana", cancel_url(run))

    assert response["Location"] == reverse(
        "validation_run_detail", kwargs={"name": "pipeline", "run_id": run.pk}
    )
    run.refresh_from_db()
    assert run.cancel_requested and run.status == "cancelled" and run.is_finished
    assert set(CheckResult.objects.filter(run=run).values_list("status", flat=True)) == {
        "cancelled"
    }
    (event,) = events("validation.cancelled")
    assert (event.actor_name, event.object_id) == ("rm-ana", str(run.pk))
    assert flashes(response) == [f"Run #{run.pk} is being cancelled; its commands are killed."]


def test_it_asks_the_worker_to_stop_a_running_check(post, registered):
    run = make_run(status="running", checks=1)  # its check is running on a worker

    post("admin", cancel_url(run))

    run.refresh_from_db()
    assert run.cancel_requested and not run.is_finished  # the worker's heartbeat sees it
    assert run.checks.get().status == "running"


def test_it_says_a_finished_run_cannot_be_cancelled(post, registered):
    run = make_run(status="passed")

    response = post("rm-ana", cancel_url(run))

    assert flashes(response) == [f"Run #{run.pk} has already finished (passed)."]
    run.refresh_from_db()
    assert not run.cancel_requested and events("validation.cancelled") == []
