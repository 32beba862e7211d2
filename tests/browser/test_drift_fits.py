"""Drift pages fit the window (issue 13 item 6): in Chromium at 1280 px, the job page and a
result page show the plain-language verdict and the document never scrolls sideways."""

import pytest

from tests.browser.conftest import sign_in
from tests.monitoring_pages.factories import seed_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_drift_pages_render_without_horizontal_overflow(browser_page, users, registered):
    history = seed_history()
    job = history.jobs[0]
    result = job.results.get(model="lr_bright_sky", column="pred_col_0")
    result.reason = (
        "effect_below_minimum: ks BH q=2.38e-163 <= alpha, but wasserstein_normed=0.03005, "
        "psi=0.0009145 below wasserstein_normed>=0.1, psi>=0.1"
    )
    result.save(update_fields=["reason"])
    page = browser_page
    sign_in(page, "analyst")
    for url in (
        f"/monitoring/pipeline/drift/{job.pk}/charts/",
        f"/monitoring/pipeline/drift/{job.pk}/results/{result.pk}/",
    ):
        page.goto(url)
        page.wait_for_load_state("load")
        verdict = page.locator("[data-testid=verdict]", has_text="too small to matter").first
        verdict.wait_for()
        assert "effect_below_minimum" not in verdict.text_content()
        assert page.evaluate(OVERFLOW) <= 0, url
