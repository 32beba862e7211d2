"""Realized skill and calibration draw in Chromium under the strict CSP (no script refused)."""

import pytest

from monitoring import skill_ledger
from monitoring.models import CheckResult, ModelMetric
from releases.models import Release
from tests.browser.conftest import sign_in
from tests.skill.factories import outcome_rows, release_with_forecasts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_viewer_reads_the_ledger_and_the_calibration(browser_page, users, registered):
    release = Release.objects.get(repository=registered, version="1.0.0")
    run = release_with_forecasts(release)
    check = CheckResult.objects.create(
        run=run, position=1, name="performance", kind="performance", timeout_s=60, status="passed"
    )
    ModelMetric.objects.create(
        run=run, check_result=check, model="orange_pasta", target="lr_ged_sb", metric="CRPS",
        step=1, value=1.0, direction="lower",
    )  # fmt: skip
    skill_ledger.outcomes_record(
        repository=registered, rows=outcome_rows(range(540, 544)), source="api", actor="test"
    )
    skill_ledger.skill_ledger_update(repository=registered)
    page = browser_page
    sign_in(page, "viewer")
    page.goto("/monitoring/pipeline/health/?subject=orange_pasta|lr_ged_sb")
    for name in ("skill-crps", "skill-pit", "skill-coverage", "skill-sharpness", "skill-steps"):
        # Charts below the fold are drawn as they come near (static/js/charts.js).
        page.locator(f"[data-testid=chart-{name}]").scroll_into_view_if_needed()
        plot = page.locator(f"[data-testid=chart-{name}] .plot[data-drawn='1']")
        plot.wait_for()
    pit = page.locator("[data-testid=chart-skill-pit] .plot")
    assert "Randomized PIT" in pit.locator(".gtitle").text_content()
    assert pit.locator(".barlayer .point").count() >= 10
