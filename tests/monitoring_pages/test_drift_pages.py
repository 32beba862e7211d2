"""Drift pages: heatmap and timeline, one job's columns, one column's distributions."""

import json
import re

import pytest
from django.urls import reverse

from tests.monitoring_pages.factories import make_drift_job, seed_history

pytestmark = pytest.mark.django_db


def figures(response) -> dict[str, dict]:
    found = re.findall(
        r'<script type="application/json" id="fig-([\w-]+)">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return {name: json.loads(text) for name, text in found}


def test_the_overview_draws_a_heatmap_and_a_timeline_with_release_markers(login, history):
    response = login("analyst").get(reverse("drift_overview", args=["pipeline"]))
    assert response.status_code == 200
    found = figures(response)
    heat = found["heatmap"]["data"]
    assert heat[0]["type"] == "heatmap"
    assert "lr_bright_sky / pred_col_0" in heat[0]["y"]
    assert heat[1]["name"] == "drifted (verdict)"
    assert found["timeline"]["data"][0]["y"] == [pytest.approx(2 / 5)]
    assert b"2 of 5" in response.content


def test_the_timeline_marks_releases_inside_its_range(login, history):
    runs = history.runs
    make_drift_job(
        history.repository,
        runs[0],
        runs[1],
        reference_label="v2.0.0",
        current_label="v2.1.0",
        models=["m"],
    )
    job = history.jobs[0]
    job.created_at = history.releases[0].tagged_at
    job.save(update_fields=["created_at"])
    timeline = figures(login("analyst").get(reverse("drift_overview", args=["pipeline"])))
    names = {t["name"]: t for t in timeline["timeline"]["data"]}
    assert "rollback" in names and "2.3.0" in names["rollback"]["text"]
    assert "promotion / hotfix" in names


def test_the_overview_says_when_there_is_nothing(login, registered):
    response = login("viewer").get(reverse("drift_overview", args=["pipeline"]))
    assert b"No drift results yet" in response.content


def test_a_job_page_lists_columns_and_draws_models_by_columns(login, history):
    job = history.jobs[0]
    response = login("analyst").get(reverse("drift_job_charts", args=["pipeline", job.pk]))
    heat = figures(response)["heatmap"]["data"][0]
    assert sorted(heat["x"]) == ["pred_col_0", "pred_col_1", "pred_draws"]
    assert sorted(heat["y"]) == ["hm_calm_sea", "lr_bright_sky"]
    assert response.content.count(b"drifted \xe2\x9c\x95") == 2


def test_a_numeric_column_shows_its_distributions_overlaid(login, history):
    result = history.jobs[0].results.get(model="lr_bright_sky", column="pred_col_0")
    response = login("analyst").get(
        reverse("drift_result", args=["pipeline", result.job_id, result.pk])
    )
    found = figures(response)
    assert list(found) == ["distribution"]
    ref, cur = found["distribution"]["data"]
    assert ref["name"] == "v2.4.0" and cur["name"].startswith("candidate #")


def test_a_draws_column_shows_units_by_steps_top_units_and_months(login, history):
    result = history.jobs[0].results.get(column="pred_draws")
    response = login("analyst").get(
        reverse("drift_result", args=["pipeline", result.job_id, result.pk])
    )
    found = figures(response)
    assert list(found) == ["distribution", "units-steps", "top-units", "months"]
    assert found["top-units"]["data"][0]["y"] == ["33", "22", "11"]
    assert found["months"]["data"][0]["x"] == ["541", "542", "543", "544"]


def test_a_result_of_another_job_or_repository_is_404(login, history):
    result = history.jobs[0].results.first()
    client = login("analyst")
    assert (
        client.get(
            reverse("drift_result", args=["pipeline", result.job_id + 99, result.pk])
        ).status_code
        == 404
    )
    assert client.get(reverse("drift_job_charts", args=["pipeline", 12345])).status_code == 404


@pytest.mark.parametrize("jobs", [1, 80])
def test_the_overview_query_count_does_not_grow(
    login, registered, jobs, django_assert_max_num_queries
):
    seed_history(releases=4, drift_jobs=jobs)
    client = login("analyst")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("drift_overview", args=["pipeline"]))
    assert response.status_code == 200


def test_job_and_result_pages_use_few_queries(login, history, django_assert_max_num_queries):
    job = history.jobs[0]
    result = job.results.get(column="pred_draws")
    client = login("analyst")
    with django_assert_max_num_queries(12):
        client.get(reverse("drift_job_charts", args=["pipeline", job.pk]))
    with django_assert_max_num_queries(12):
        client.get(reverse("drift_result", args=["pipeline", job.pk, result.pk]))
