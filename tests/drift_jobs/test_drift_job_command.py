"""manage.py drift job NAME --reference-run ID --current-run ID [--wait]."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from monitoring import drift_jobs
from monitoring.models import DriftJob
from tests.drift_jobs.drift_job_factories import runs_with_predictions

pytestmark = pytest.mark.django_db


@pytest.fixture
def inline_parts(monkeypatch):
    """The parts run in this process at once, as a worker would run them.

    Not on commit: the test's transaction never commits, and --wait would wait forever.
    """

    def run_now(job_id: int, parts: int) -> None:
        for part in range(parts):
            drift_jobs.drift_part_run(job_id=job_id, part=part)

    monkeypatch.setattr(drift_jobs, "_enqueue_parts_on_commit", run_now)


def drift(*args: str) -> str:
    out = io.StringIO()
    call_command("drift", *args, stdout=out)
    return out.getvalue()


def test_it_starts_a_job_and_waits_for_the_verdicts(registered, inline_parts):
    reference, current = runs_with_predictions()
    out = drift(
        "job",
        "pipeline",
        "--reference-run",
        str(reference.pk),
        "--current-run",
        str(current.pk),
        "--model",
        "orange_pasta",
        "--wait",
        "--timeout",
        "5",
    )
    job = DriftJob.objects.get()
    assert f"drift job #{job.pk}" in out and "1 part(s) queued" in out
    assert "orange_pasta  pred_ln_sb  DRIFTED" in out
    assert "2 of 2 tested column(s) drifted" in out
    assert job.source == "job" and job.created_by is None and job.status == "done"


def test_it_refuses_what_the_service_refuses(registered):
    reference, current = runs_with_predictions()
    with pytest.raises(CommandError, match="no predictions of model.*nope"):
        drift(
            "job",
            "pipeline",
            "--reference-run",
            str(reference.pk),
            "--current-run",
            str(current.pk),
            "--model",
            "nope",
        )
    with pytest.raises(CommandError, match="no validation run #999"):
        drift("job", "pipeline", "--reference-run", "999", "--current-run", str(current.pk))


def test_a_named_user_needs_the_role(registered, users):
    reference, current = runs_with_predictions()
    with pytest.raises(CommandError, match="start drift job"):
        drift(
            "job",
            "pipeline",
            "--reference-run",
            str(reference.pk),
            "--current-run",
            str(current.pk),
            "--user",
            "viewer",
        )
