"""Start a drift job: recorded with its plan, one task per part queued, audited."""

import pytest
from django.urls import reverse

from ewsdash import queue
from monitoring.models import DriftJob
from tests.drift_jobs.drift_job_factories import runs_with_predictions
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db

URL = reverse("drift_job_start", kwargs={"name": "pipeline"})


def test_it_records_the_job_and_queues_its_parts(post, registered, sent):
    reference, current = runs_with_predictions()

    response = post(
        "analyst",
        URL,
        {"reference_run": reference.pk, "current_run": current.pk, "model": "orange_pasta"},
    )

    job = DriftJob.objects.get()
    assert response["Location"] == reverse(
        "drift_job_detail", kwargs={"name": "pipeline", "job_id": job.pk}
    )
    assert (job.reference_run, job.current_run, job.models) == (
        reference,
        current,
        ["orange_pasta"],
    )
    assert job.created_by.username == "analyst" and job.status == "queued"
    assert sorted(kwargs["part"] for task, kwargs in sent if task == queue.DRIFT_PART_RUN) == list(
        range(job.parts_total)
    )
    (event,) = events("drift_job_start")
    assert event.actor_name == "analyst"
    assert (event.payload["reference_run"], event.payload["current_run"]) == (
        reference.pk,
        current.pk,
    )


def test_it_asks_for_runs_from_the_list(post, registered, sent):
    response = post("analyst", URL, {"reference_run": "", "current_run": "x"})

    assert response["Location"] == reverse("drift_job_list", kwargs={"name": "pipeline"})
    assert flashes(response) == ["Choose the reference run from the list."]
    assert not DriftJob.objects.exists() and sent == []
