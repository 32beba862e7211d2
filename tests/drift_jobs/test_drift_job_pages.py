"""The drift job list with its start form, and one job's page and live fragment."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from monitoring import drift_jobs
from monitoring.models import DriftJob, ValidationRun
from releases.models import PromotionCandidate, Release
from tests.drift_jobs.drift_job_factories import make_drift_job, runs_with_predictions

pytestmark = pytest.mark.django_db

LIST = reverse("drift_job_list", kwargs={"name": "pipeline"})
START = reverse("drift_job_start", kwargs={"name": "pipeline"})


def job_url(job: DriftJob) -> str:
    return reverse("drift_job_detail", kwargs={"name": "pipeline", "job_id": job.pk})


def queries(client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, headers=headers).status_code == 200
    return len(captured)


def test_the_list_shows_jobs_newest_first(login, registered):
    older, newer = make_drift_job(), make_drift_job(status="running")
    html = login("viewer").get(LIST).content.decode()
    rows = re.findall(r'data-job="(\d+)" data-status="(\w+)"', html)
    assert rows == [(str(newer.pk), "running"), (str(older.pk), "done")]
    assert 'data-testid="drift-start-form"' not in html  # a viewer may not start jobs


def test_analysts_get_the_form_with_release_and_candidate_runs(login, registered, users):
    reference, current = runs_with_predictions()
    ValidationRun.objects.filter(pk=reference.pk).update(commit="a" * 40)
    Release.objects.filter(repository=registered, version="1.0.0").update(commit="a" * 40)
    candidate = PromotionCandidate.objects.create(
        repository=registered,
        kind="promotion",
        source_branch="development",
        commit=current.commit,
        production_head=current.commit,
        checked_production_head=current.commit,
        version="1.1.0",
        proposed_version="1.1.0",
        bump="minor",
        created_by=users["rm-ana"],
        validation_run=current,
        status="validated",
    )
    release = Release.objects.get(repository=registered, version="1.0.0")
    html = login("analyst").get(LIST).content.decode()
    assert 'data-testid="drift-start-form"' in html
    # A release without a candidate: the latest finished run of its commit.
    assert f'<option value="{reference.pk}">{release} (run #{reference.pk}' in html
    assert f'<option value="{current.pk}" selected>candidate #{candidate.pk} ' in html
    for model in ("orange_pasta", "purple_alien", "blank_space"):
        assert f'<option value="{model}">{model}</option>' in html


def test_an_analyst_starts_a_job_and_is_sent_to_it(login, registered, users, monkeypatch):
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(
        drift_jobs, "_enqueue_parts_on_commit", lambda job_id, parts: sent.append((job_id, parts))
    )
    reference, current = runs_with_predictions()
    response = login("analyst").post_form(
        START,
        {
            "reference_run": reference.pk,
            "current_run": current.pk,
            "model": "orange_pasta",
        },
    )
    job = DriftJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job_url(job)
    assert job.models == ["orange_pasta"] and job.created_by == users["analyst"]
    assert sent == [(job.pk, 1)]


def test_a_refused_start_shows_why(login, registered):
    reference, _ = runs_with_predictions()
    other = make_drift_job().reference_run  # a run without artifacts
    client = login("analyst")
    response = client.post_form(START, {"reference_run": reference.pk, "current_run": other.pk})
    assert response.status_code == 302 and response["Location"] == LIST
    html = client.get(LIST).content.decode()
    assert f"current run #{other.pk}" in html and "no prediction artifacts" in html
    assert not DriftJob.objects.filter(reference_run=reference).exists()


def test_the_job_page_shows_the_results_table(login, registered):
    job = make_drift_job()
    html = login("viewer").get(job_url(job)).content.decode()
    assert 'data-testid="drift-results"' in html
    assert html.count('data-column="pred_ln_sb"') == 3
    assert html.count('data-drifted="true"') == 1
    assert "hx-trigger" not in html  # done: no polling
    assert "1 of 3 tested column(s) drifted" in html


def test_a_running_job_polls_its_fragment(login, registered):
    job = make_drift_job(status="running")
    client = login("viewer")
    html = client.get(job_url(job)).content.decode()
    assert 'hx-trigger="every 2s"' in html and "pending" in html
    fragment = client.get(job_url(job), headers={"HX-Request": "true"}).content.decode()
    assert 'data-testid="drift-job"' in fragment and "<html" not in fragment


def test_another_repositorys_job_is_404(login, registered):
    job = make_drift_job()
    url = reverse("drift_job_detail", kwargs={"name": "pipeline", "job_id": job.pk + 100})
    assert login("viewer").get(url).status_code == 404


def test_pages_make_a_fixed_number_of_queries(login, registered):
    client = login("analyst")
    job = make_drift_job(results=2)
    # The release's run is offered, so the form reads its runs and their models too.
    Release.objects.filter(version="1.0.0").update(commit=job.reference_run.commit)
    counts = {"list": queries(client, LIST), "job": queries(client, job_url(job))}
    for _ in range(3):
        make_drift_job(results=20)
    runs_with_predictions()
    newest = DriftJob.objects.order_by("-pk").first()
    assert counts == {"list": queries(client, LIST), "job": queries(client, job_url(newest))}
    # Session, user, two for the role's permissions, the repository, the open incidents (the
    # banner); then the page's own: jobs, releases, their runs, candidates, models; or the
    # job and its results.
    assert counts == {"list": 6 + 5, "job": 6 + 2}
    assert queries(login("viewer"), LIST) == 6 + 1  # no form: the jobs only
    assert queries(client, job_url(newest), **{"HX-Request": "true"}) == 6 + 2
