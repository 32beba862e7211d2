"""A skill check's verdicts and intervals on the run (and candidate) page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring.models import CheckResult
from tests.skill.test_skill_check import judge
from tests.validation_runs.factories import make_run

pytestmark = pytest.mark.django_db


def test_the_run_page_shows_each_verdict_with_its_intervals_and_floors(login, registered, tmp_path):
    floors = 'floors = [{ metric = "MSLE", beat = "zeros" }]'
    outcome = judge(tmp_path, candidate=3.0, production=1.0, floors=floors)
    run = make_run()
    CheckResult.objects.create(
        run=run, position=5, name="backtest", kind="skill", timeout_s=60, status=outcome.status,
        summary=outcome.summary, details=outcome.details,
    )  # fmt: skip
    response = login("viewer").get(
        reverse("validation_run_detail", kwargs={"name": "pipeline", "run_id": run.pk})
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="skill-verdict"') == 6  # 3 forecasts x (CRPS, MSLE)
    assert html.count('data-testid="skill-interval"') == 18  # ... x 3 steps
    assert ">worse</td>" in html and "all zeros" in html and "last observed value" in html
    assert 'data-testid="skill-floor"' in html and "must beat zeros" in html
