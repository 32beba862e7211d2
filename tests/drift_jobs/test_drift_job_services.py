"""drift_job_start and the parts, run in this process (no broker)."""

from __future__ import annotations

import pytest

from monitoring import drift_jobs
from monitoring.models import CheckArtifact, DriftJob, DriftResult
from releases.errors import ActionRefused
from releases.models import AuditEvent
from tests.drift_jobs.drift_job_factories import runs_with_predictions

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Parts that would have been enqueued, as (job id, parts)."""
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(
        drift_jobs, "_enqueue_parts_on_commit", lambda job_id, parts: calls.append((job_id, parts))
    )
    return calls


def start(registered, actor, reference, current, **kwargs) -> DriftJob:
    return drift_jobs.drift_job_start(
        repository=registered,
        reference_run=reference,
        current_run=current,
        actor=actor,
        reference_label="v1.0.0",
        current_label="candidate #1",
        **kwargs,
    )


def run_parts(job: DriftJob) -> list[str]:
    return [drift_jobs.drift_part_run(job_id=job.pk, part=i) for i in range(job.parts_total)]


def test_it_plans_parts_and_records_the_start(registered, users, sent):
    reference, current = runs_with_predictions()
    job = start(registered, users["analyst"], reference, current, models=["purple_alien"])
    assert job.status == "queued" and job.parts_total == 2 and sent == [(job.pk, 2)]
    assert [len(p["columns"]) for p in job.summary["plan"]] == [8, 4]
    assert all(p["model"] == "purple_alien" for p in job.summary["plan"])
    event = AuditEvent.objects.get(action="drift_job_start")
    assert event.actor == users["analyst"] and event.payload["parts"] == 2


def test_it_refuses_a_run_without_prediction_artifacts_naming_it(registered, users, sent):
    reference, current = runs_with_predictions()
    CheckArtifact.objects.filter(check_result__run=current).delete()
    with pytest.raises(
        ActionRefused,
        match=rf"current run #{current.pk} .*candidate #1.*"
        r'no prediction artifacts of the check "inference"',
    ):
        start(registered, users["analyst"], reference, current)
    assert not DriftJob.objects.exists() and sent == []


def test_it_refuses_a_model_missing_from_either_run(registered, users, sent):
    reference, current = runs_with_predictions()
    with pytest.raises(ActionRefused, match="no predictions of model.*lavender_haze"):
        start(registered, users["analyst"], reference, current, models=["lavender_haze"])


def test_it_requires_the_start_permission(registered, users, sent):
    reference, current = runs_with_predictions()
    with pytest.raises(ActionRefused, match="start drift job"):
        start(registered, users["viewer"], reference, current)


def test_a_redelivered_part_is_not_counted_twice(registered, users, sent):
    reference, current = runs_with_predictions()
    job = start(registered, users["analyst"], reference, current)
    drift_jobs.drift_part_run(job_id=job.pk, part=0)
    drift_jobs.drift_part_run(job_id=job.pk, part=0)
    job.refresh_from_db()
    assert job.status == "running" and job.parts_done == 1
    for part in range(1, job.parts_total):
        drift_jobs.drift_part_run(job_id=job.pk, part=part)
    job.refresh_from_db()
    assert job.status == "done" and job.parts_done == job.parts_total
    assert "finished" in drift_jobs.drift_part_run(job_id=job.pk, part=0)
    assert DriftResult.objects.filter(job=job).count() == 16


def test_values_the_engine_did_not_compute_are_null_not_nan(registered, users, sent):
    reference, current = runs_with_predictions()
    job = start(registered, users["analyst"], reference, current, models=["blank_space"])
    run_parts(job)
    draws = DriftResult.objects.get(job=job, column="pred_lr_ged_sb")
    # A draws column has no chi-square: nothing invented; every stored float is finite.
    assert "chi_square" not in draws.tests
    for r in DriftResult.objects.filter(job=job):
        for field in (
            "ks_statistic",
            "ks_p_value",
            "q_value",
            "wasserstein_normed",
            "psi",
            "jensen_shannon",
            "effect",
        ):
            value = getattr(r, field)
            assert value is None or value == value  # NaN != NaN


def test_the_reference_profile_is_built_once_for_many_candidates(
    registered, users, sent, monkeypatch
):
    reference, current = runs_with_predictions()
    _, other = runs_with_predictions(shifted_model="blank_space")
    built: list[str] = []
    real = drift_jobs.profile_file
    monkeypatch.setattr(
        drift_jobs,
        "profile_file",
        lambda path, *a, **k: built.append(str(path)) or real(path, *a, **k),
    )
    for candidate in (current, other):
        job = start(registered, users["analyst"], reference, candidate, models=["orange_pasta"])
        run_parts(job)
    # The reference once, each candidate once.
    assert len(built) == 3
    assert DriftJob.objects.filter(status="done").count() == 2


def test_an_unreadable_artifact_ends_the_job_with_its_message(registered, users, sent):
    from monitoring.artifacts import artifact_path

    reference, current = runs_with_predictions()
    job = start(registered, users["analyst"], reference, current, models=["orange_pasta"])
    path = artifact_path(job.summary["plan"][0]["current_sha256"])
    path.chmod(0o644)
    path.write_bytes(b"PAR1 not really parquet")
    run_parts(job)
    job.refresh_from_db()
    assert job.status == "error" and job.finished_at is not None
    assert "part 1/1 (predictions_orange_pasta.parquet" in job.error
    # The store's file no longer has its sha256: refused before it is parsed.
    assert "was changed in the store" in job.error
