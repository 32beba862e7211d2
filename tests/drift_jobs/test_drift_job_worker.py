"""Drift jobs on a real worker: fan-out, merge, redelivery, and the validation drift check."""

from __future__ import annotations

import numpy as np
import pytest

from monitoring import drift_jobs, runs
from monitoring.drift import bh_adjust
from monitoring.models import DriftJob, DriftResult
from tests.drift_jobs.drift_job_factories import runs_with_predictions
from tests.support.worker import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def finished(job: DriftJob, timeout: float = 90) -> DriftJob:
    wait_for(
        lambda: DriftJob.objects.get(pk=job.pk).is_finished,
        timeout=timeout,
        interval=0.2,
        message=f"drift job {job.pk} did not finish",
    )
    return DriftJob.objects.get(pk=job.pk)


def test_a_job_fans_out_merges_and_stores_each_result_once(
    celery_worker_process, registered, users
):
    reference, current = runs_with_predictions()
    job = drift_jobs.drift_job_start(
        repository=registered,
        reference_run=reference,
        current_run=current,
        actor=users["analyst"],
        reference_label="v1.0.0",
        current_label="candidate #1",
    )
    # Three files, one of them with 12 pred_* columns: 1 + 1 + 2 parts of <= 8 columns.
    assert job.parts_total == 4
    job = finished(job)
    assert job.status == "done", job.error
    assert job.parts_done == 4 and job.started_at and job.finished_at

    results = list(DriftResult.objects.filter(job=job))
    assert len(results) == 16
    assert len({(r.model, r.column) for r in results}) == 16
    drifted = {(r.model, r.column) for r in results if r.drifted}
    assert drifted == {("orange_pasta", "pred_ln_sb"), ("orange_pasta", "pred_lr_ged_sb")}
    # Benjamini-Hochberg across every column of every model, not per part or per file.
    p = [r.ks_p_value for r in results]
    expected = bh_adjust(p)
    assert np.allclose([r.q_value for r in results], expected, rtol=1e-12)
    assert job.summary["tested"] == 16 and job.summary["drifted"] == 2
    draws = next(r for r in results if r.model == "orange_pasta" and r.kind == "draws")
    assert len(draws.cells["matrix"]["units"]) == 12 and draws.cells["drifted"] > 0
    assert len(draws.distribution["reference_q"]) == 101
    assert len(draws.distribution["edges"]) <= 51


def test_a_redelivered_part_is_harmless(celery_worker_process, registered, users):
    from monitoring.tasks import drift_part_run

    reference, current = runs_with_predictions()
    job = drift_jobs.drift_job_start(
        repository=registered,
        reference_run=reference,
        current_run=current,
        actor=users["analyst"],
        reference_label="v1.0.0",
        current_label="candidate #1",
    )
    # The same message twice more, as a broker does after a lost acknowledgement.
    duplicates = [drift_part_run.delay(job_id=job.pk, part=0) for _ in range(2)]
    job = finished(job)
    for duplicate in duplicates:  # the late duplicates have landed
        celery_worker_process.wait_for_task(duplicate.id)
    job.refresh_from_db()
    assert job.status == "done" and job.parts_done == job.parts_total == 4
    assert DriftResult.objects.filter(job=job).count() == 16


@pytest.mark.slow
def test_the_demo_candidate_drift_check_records_a_validation_job(celery_worker_process, tmp_path):
    from monitoring.models import ValidationRun
    from releases import services as release_services
    from releases.demo_pipeline import build_demo_origin

    origin = build_demo_origin(tmp_path / "origins")
    repository = release_services.repository_create(
        actor="test", name="views", origin=str(origin.path)
    )
    run = runs.validation_run_start(
        repository=repository, commit=origin.development, actor="test", purpose="candidate"
    )
    wait_for(
        lambda: ValidationRun.objects.get(pk=run.pk).is_finished,
        timeout=240,
        interval=0.25,
        message="the demo validation did not finish",
    )
    drift_check = run.checks.get(name="prediction-drift")
    job = wait_for(
        lambda: DriftJob.objects.filter(current_run=run).first(),
        timeout=30,
        message="the drift check recorded no drift job",
    )
    job = finished(job, timeout=120)
    # Recording never changes the check's verdict.
    assert run.checks.get(name="prediction-drift").status == drift_check.status
    assert job.source == "validation" and job.status == "done", job.error
    assert job.reference_run_id == run.reference_id and job.columns == ["pred_lr_ged_sb"]
    results = {r.model: r for r in job.results.all()}
    produced = {
        model for model, status in origin.deployment_statuses.items() if status != "deprecated"
    }
    assert set(results) == produced
    drifted = results.pop(origin.drifted_model)
    # The demo moves orange_pasta's forecasts: its cells drift and its column has the
    # largest effect; the others' do not.
    assert drifted.cells["drifted"] > 0
    assert all(r.cells["drifted"] == 0 for r in results.values())
    assert all(drifted.effect > r.effect for r in results.values())
