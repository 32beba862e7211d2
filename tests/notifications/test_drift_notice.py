"""A drift job that finds drift is audited and so notified (to analysts, release managers
and admins by default); one that finds none says nothing."""

import pytest

from monitoring import drift_jobs
from monitoring.models import DriftJob
from notifications.models import Channel, Delivery
from releases.models import AuditEvent
from tests.drift_jobs.drift_job_factories import runs_with_predictions

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_parts_queued(monkeypatch):
    monkeypatch.setattr(drift_jobs, "_enqueue_parts_on_commit", lambda job_id, parts: None)


def finished_job(registered, users, models: list[str]) -> DriftJob:
    reference, current = runs_with_predictions()
    job = drift_jobs.drift_job_start(
        repository=registered,
        reference_run=reference,
        current_run=current,
        actor=users["analyst"],
        reference_label="v1.0.0",
        current_label="candidate #1",
        models=models,
    )
    for part in range(job.parts_total):
        drift_jobs.drift_part_run(job_id=job.pk, part=part)
    job.refresh_from_db()
    assert job.status == "done"
    return job


def test_drift_found_reaches_the_channel_with_a_link_to_the_job(
    registered, users, no_parts_queued, settings
):
    settings.EWSDASH_PUBLIC_URL = "https://ews.example.org"
    Channel.objects.create(name="analysts", url="json://127.0.0.1:9/x", events=["drift_found"])
    job = finished_job(registered, users, ["orange_pasta"])  # the shifted model
    drifted = job.summary["drifted_columns"]
    assert drifted, "the factory's current run drifts from its reference"

    event = AuditEvent.objects.get(action="drift_job.drift_found")
    assert event.actor_name == "system" and event.payload["count"] == len(drifted)
    row = Delivery.objects.get(event=event)
    assert row.event_key == "drift_found" and "found drift" in row.title
    assert f"https://ews.example.org/monitoring/pipeline/drift/{job.pk}/" in row.body


def test_a_job_without_drift_notifies_no_one(registered, users, no_parts_queued):
    Channel.objects.create(name="analysts", url="json://127.0.0.1:9/x")
    job = finished_job(registered, users, ["blank_space"])
    assert job.summary["drifted_columns"] == []
    assert not AuditEvent.objects.filter(action="drift_job.drift_found").exists()
    assert not Delivery.objects.exists()
