"""Every chart offers its full data as CSV: `?format=csv&chart=<name>` on its page."""

import csv
import io

import pytest
from django.urls import reverse

from tests.monitoring_pages.factories import seed_history

pytestmark = pytest.mark.django_db


def rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_a_health_chart_downloads_every_release_with_its_flags(login, history):
    response = login("viewer").get(
        reverse("model_health", args=["pipeline"]),
        {"subject": "lr_bright_sky|ged_sb", "step": "1", "format": "csv", "chart": "metric-crps-1"},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="pipeline-metric-crps-1.csv"'
    table = rows(response)
    # 1.0.0 (from the git world) has no validation run: listed, without a value.
    assert table[0]["release"] == "1.0.0" and table[0]["value"] == ""
    table = table[1:]
    assert [r["release"] for r in table] == [
        "2.0.0",
        "2.1.0",
        "2.2.0",
        "2.3.0",
        "2.4.0",
        "2.5.0 (candidate)",
    ]
    assert {r["step"] for r in table} == {"1"} and {r["model"] for r in table} == {"lr_bright_sky"}
    assert [r["regression"] for r in table] == ["False", "False", "True", "False", "False", "True"]
    assert table[4]["live"] == "True" and table[3]["kind"] == "rollback"
    assert float(table[0]["value"]) == pytest.approx(1.001)


def test_the_csv_keeps_every_point_that_the_chart_thins(login, registered):
    seed_history(releases=450, candidate=False, models=["m"], metrics=["crps"], steps=[None])
    response = login("analyst").get(
        reverse("model_health", args=["pipeline"]), {"format": "csv", "chart": "metric-crps-0"}
    )
    assert len([r for r in rows(response) if r["value"]]) == 450


def test_compare_and_drift_charts_download_too(login, history):
    client = login("analyst")
    deltas = client.get(
        reverse("release_compare", args=["pipeline", "2.0.0", "2.4.0"]),
        {"format": "csv", "chart": "deltas"},
    )
    table = rows(deltas)
    # Every model x metric x step (all steps and steps 1-3): the whole table, not the top rows.
    assert len(table) == 2 * 3 * 4 and {"better", "worse"} == {r["verdict"] for r in table}
    assert {r["step"] for r in table} == {"", "1", "2", "3"}
    heat = client.get(
        reverse("drift_overview", args=["pipeline"]), {"format": "csv", "chart": "heatmap"}
    )
    assert len(rows(heat)) == 5 and {r["drifted"] for r in rows(heat)} == {"True", "False"}
    draws = history.jobs[0].results.get(column="pred_draws")
    cells = client.get(
        reverse("drift_result", args=["pipeline", draws.job_id, draws.pk]),
        {"format": "csv", "chart": "units-steps"},
    )
    assert len(rows(cells)) == 3 * 4


def test_an_unknown_chart_is_404(login, history):
    response = login("analyst").get(
        reverse("model_health", args=["pipeline"]), {"format": "csv", "chart": "nope"}
    )
    assert response.status_code == 404


def test_the_page_links_each_chart_to_its_csv(login, history):
    html = (
        login("analyst")
        .get(reverse("model_health", args=["pipeline"]), {"step": "2"})
        .content.decode()
    )
    assert "?step=2&amp;format=csv&amp;chart=metric-mse-2" in html


def test_a_long_history_keeps_the_page_and_its_figures_light(login, registered):
    seed_history(
        releases=600, models=["m"], metrics=["crps", "mse", "coverage"], steps=[None], drift_jobs=0
    )
    response = login("analyst").get(reverse("model_health", args=["pipeline"]))
    html = response.content.decode()
    figures = html.count('type="application/json"')
    assert figures == 3 + 3  # each metric over the releases, and its steps at a glance
    embedded = sum(
        len(part.split("</script>")[0])
        for part in html.split('<script type="application/json"')[1:]
    )
    assert embedded < 1_000_000 and len(response.content) < 1_500_000
    assert 'data-testid="table-cut"' in html  # the table shows the newest rows only
