"""The model health page: metrics over releases, per step, candidate beside production."""

import json
import re

import pytest
from django.urls import reverse

from monitoring.models import ModelConfig
from tests.monitoring_pages.factories import seed_history

pytestmark = pytest.mark.django_db

MAX_QUERIES = 13  # 12, and one for the realized-skill ledger (issue 18)


def figures(response) -> dict[str, dict]:
    html = response.content.decode()
    found = re.findall(
        r'<script type="application/json" id="fig-([\w-]+)">(.*?)</script>', html, re.S
    )
    return {name: json.loads(text) for name, text in found}


def url(**query) -> str:
    base = reverse("model_health", kwargs={"name": "pipeline"})
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_it_charts_every_metric_of_the_first_model_over_the_releases(login, history):
    response = login("analyst").get(url())
    assert response.status_code == 200
    found = figures(response)
    assert sorted(found) == [
        "metric-coverage-0",
        "metric-crps-1",
        "metric-mse-2",
        "steps-coverage-0",
        "steps-crps-1",
        "steps-mse-2",
    ]
    crps = found["metric-crps-1"]
    release = next(t for t in crps["data"] if t["name"] == "release")
    assert release["x"] == ["2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.4.0"]
    assert "hm_calm_sea · ged_sb" in crps["layout"]["title"]["text"]
    assert crps["layout"]["yaxis"]["title"]["text"] == "crps (score, lower is better)"
    assert b"vendor/plotly-cartesian/plotly-cartesian.min.js" in response.content
    assert b"cdn" not in response.content.lower()


def test_it_marks_live_candidate_rollback_and_regressions(login, history):
    found = figures(login("viewer").get(url(subject="lr_bright_sky|ged_sb")))
    crps = found["metric-crps-1"]
    names = {t["name"]: t for t in crps["data"]}
    assert names["live on production"]["x"] == ["2.4.0"]
    assert names["candidate"]["x"] == ["2.5.0 (candidate)"]
    # Release 2 jumps by 0.5 (beyond 5%), the candidate's 9.0 against production too.
    assert names["regression beyond tolerance"]["x"] == ["2.2.0", "2.5.0 (candidate)"]
    assert [a["text"] for a in crps["layout"]["annotations"]] == ["rolled back", "rollback"]


def test_it_switches_the_step(login, history):
    response = login("analyst").get(url(subject="lr_bright_sky|ged_sb", step=2))
    crps = figures(response)["metric-crps-1"]
    release = next(t for t in crps["data"] if t["name"] == "release")
    assert release["y"][0] == pytest.approx(1.002)
    assert "step 2" in crps["layout"]["title"]["text"]
    assert b'<option value="2" selected>' in response.content


def test_it_shows_a_table_of_the_same_numbers_newest_first(login, history):
    response = login("analyst").get(url(subject="lr_bright_sky|ged_sb"))
    html = response.content.decode()
    table = html[html.index('data-testid="health-table"') :]
    assert table.index("2.5.0 (candidate)") < table.index(">2.4.0<") < table.index(">2.0.0<")
    assert "9 ✕" in table  # the candidate's regression, flagged in the table too
    assert "lower is better" in table and "higher is better" in table


def test_it_links_the_candidate_to_its_comparison_with_production(login, history):
    response = login("analyst").get(url())
    expected = reverse("candidate_compare", args=["pipeline", "2.4.0", history.candidate.pk])
    assert expected.encode() in response.content


def test_it_says_when_there_are_no_metrics(login, registered):
    response = login("viewer").get(url())
    assert b"No model metrics yet" in response.content
    assert b"plotly-cartesian.min.js" not in response.content


def test_an_unknown_model_falls_back_to_the_first(login, history):
    response = login("analyst").get(url(subject="nope|nope", step="x"))
    assert response.status_code == 200 and "metric-crps-1" in figures(response)


def test_it_escapes_names_inside_the_embedded_figure(login, registered):
    seed_history(models=["</script><script>alert(1)</script>"], candidate=False)
    response = login("analyst").get(url())
    assert b"</script><script>alert(1)" not in response.content
    assert figures(response)


@pytest.mark.parametrize("releases", [3, 60])
def test_its_query_count_does_not_grow_with_the_history(
    login, registered, releases, django_assert_max_num_queries
):
    seed_history(releases=releases, drift_jobs=2)
    client = login("analyst")
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(url(step=1))
    assert response.status_code == 200


def test_it_opens_on_data_when_every_metric_has_a_step(login, registered):
    """No step in the address: the first step the model reported, not "step IS NULL"."""
    seed_history(steps=[1, 2, 3], candidate=False)
    response = login("analyst").get(url())
    crps = figures(response)["metric-crps-1"]
    release = next(t for t in crps["data"] if t["name"] == "release")
    assert release["y"][0] == pytest.approx(1.101)  # hm_calm_sea at step 1
    assert b'<option value="1" selected>' in response.content
    assert b"Step 1 in detail" in response.content


def test_it_opens_on_a_model_deployed_at_the_live_release(login, history):
    live = history.releases[-1]
    ModelConfig.objects.filter(
        snapshot__commit=live.commit, name="hm_calm_sea", kind="model"
    ).update(status="deprecated")
    response = login("analyst").get(url())
    assert "lr_bright_sky · ged_sb" in figures(response)["metric-crps-1"]["layout"]["title"]["text"]
    assert b"lr_bright_sky \xc2\xb7 ged_sb \xc2\xb7 deployed" in response.content


def test_every_step_at_a_glance_against_live_with_the_candidate(login, history):
    found = figures(login("analyst").get(url(subject="lr_bright_sky|ged_sb", step=2)))
    heat = found["steps-crps-1"]
    cells = heat["data"][0]
    assert cells["y"] == ["all steps", "step 1", "step 2", "step 3"]
    assert cells["x"][-2:] == ["2.4.0", "2.5.0 (candidate)"]
    live_column = cells["x"].index("2.4.0")
    assert all(row[live_column] == 0 for row in cells["z"])
    # The candidate's crps of 9.0 is far worse than live at every step, and marked.
    assert all(row[-1] > 800 for row in cells["z"])
    marks = heat["data"][1]
    assert marks["x"].count("2.5.0 (candidate)") == 4
    # The releases set the colour range (95th percentile); the wild candidate saturates.
    assert cells["zmax"] < 800
    # The selected step is outlined; clicking a row opens it (the page script).
    assert heat["layout"]["shapes"][0]["y0"] == 1.5 and heat["layout"]["meta"]["step_link"]


def test_after_a_rollback_the_live_release_is_starred_with_the_manifest_tolerance(
    login, registered
):
    """The rollback release has no run of its own: the release it restored stands for it;
    the tolerance is the restored run's manifest's; the rollback is no regression."""
    from monitoring.models import ValidationRun
    from releases.models import Release, ReleaseLine

    history = seed_history(releases=4, candidate=False, rollback_at=None)
    restored = history.releases[1]
    rollback = Release.objects.create(
        repository=history.repository,
        version="2.4.0",
        tag="v2.4.0",
        commit="f" * 40,
        kind="rollback",
        on_production=True,
        restores=restored,
        rolls_back=history.releases[-1],
    )
    Release.objects.filter(pk=history.releases[-1].pk).update(rolled_back_by=rollback)
    ReleaseLine.objects.filter(repository=history.repository).update(latest_release=rollback)
    assert not ValidationRun.objects.filter(commit=rollback.commit).exists()
    response = login("analyst").get(url(subject="lr_bright_sky|ged_sb"))
    html = response.content.decode()
    crps = {t["name"]: t for t in figures(response)["metric-crps-1"]["data"]}
    assert crps["live on production"]["x"] == ["2.4.0"]
    assert crps["live on production"]["y"] == [pytest.approx(0.99)]  # 2.1.0's value
    assert "2.4.0" not in crps.get("regression beyond tolerance", {}).get("x", [])
    assert '<span data-testid="tolerance">5% relative</span>' in html
    assert "v2.4.0 ★" in html
