"""Model health shows realized skill across releases and the live release's calibration."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from monitoring import skill_ledger
from monitoring.models import CheckResult, ModelMetric
from releases.models import Release
from tests.skill.factories import UNITS, outcome_rows, release_with_forecasts

pytestmark = pytest.mark.django_db


def figures(response) -> dict[str, dict]:
    found = re.findall(
        r'<script type="application/json" id="fig-([\w-]+)">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return {name: json.loads(text) for name, text in found}


@pytest.fixture
def scored(registered, users):
    release = Release.objects.get(repository=registered, version="1.0.0")
    run = release_with_forecasts(release)
    check = CheckResult.objects.create(
        run=run, position=1, name="performance", kind="performance", timeout_s=60, status="passed"
    )
    for step in (1, 2, 3):
        ModelMetric.objects.create(
            run=run, check_result=check, model="orange_pasta", target="lr_ged_sb",
            metric="CRPS", step=step, value=1.0, direction="lower",
        )  # fmt: skip
    skill_ledger.outcomes_record(
        repository=registered, rows=outcome_rows(range(540, 543)), source="api", actor="test"
    )
    skill_ledger.skill_ledger_update(repository=registered)
    return release


def url(**query) -> str:
    base = reverse("model_health", kwargs={"name": "pipeline"})
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_it_charts_the_ledger_and_the_calibration_of_the_live_release(login, scored):
    response = login("viewer").get(url(subject="orange_pasta|lr_ged_sb"))
    assert response.status_code == 200
    found = figures(response)
    for name in ("skill-crps", "skill-twcrps", "skill-msle", "skill-brier", "skill-pit",
                 "skill-coverage", "skill-sharpness", "skill-steps"):  # fmt: skip
        assert name in found, name
    crps = found["skill-crps"]["data"][0]
    assert crps["x"] == [540, 541, 542] and "★" in crps["name"]
    pit = {trace["name"].split(" (")[0]: trace for trace in found["skill-pit"]["data"]}
    assert set(pit) <= {"all outcomes", "zero outcomes", "non-zero outcomes"}
    # The page opens on step 1 (every metric has a step): one month of six units.
    total = int(pit["all outcomes"]["name"].split("(")[1].rstrip(")"))
    assert total == len(UNITS)
    assert sum(pit["all outcomes"]["y"]) == pytest.approx(10.0)  # a density over 10 bins
    assert b"calibration-release" in response.content
    assert b"<script>" not in response.content  # data only: the CSP forbids inline code


def test_a_step_narrows_the_calibration_and_each_chart_has_its_csv(login, scored):
    client = login("analyst")
    response = client.get(url(subject="orange_pasta|lr_ged_sb", step=2))
    assert b"over 1 scored month at step 2" in response.content
    steps = figures(response)["skill-steps"]["data"][0]
    assert steps["x"] == [1, 2, 3]  # coverage by step keeps every step
    csv = client.get(url(subject="orange_pasta|lr_ged_sb", format="csv", chart="skill-pit"))
    assert csv.status_code == 200 and csv.content.startswith(b"group,bin_centre,count,density")


def test_without_outcomes_it_says_how_they_arrive(login, registered):
    release = Release.objects.get(repository=registered, version="1.0.0")
    run = release_with_forecasts(release)
    check = CheckResult.objects.create(
        run=run, position=1, name="performance", kind="performance", timeout_s=60, status="passed"
    )
    ModelMetric.objects.create(
        run=run, check_result=check, model="orange_pasta", target="lr_ged_sb", metric="CRPS",
        step=1, value=1.0, direction="lower",
    )  # fmt: skip
    response = login("viewer").get(url())
    assert response.status_code == 200
    assert b'data-testid="no-outcomes"' in response.content
    assert not [name for name in figures(response) if name.startswith("skill-")]
