"""Journey: an analyst reads model health, a drift heatmap and a comparison in Chromium,
and downloads a chart's data. Saves a screenshot of each page for the README."""

from pathlib import Path

import pytest

from tests.browser.conftest import shoot, sign_in
from tests.monitoring_pages.factories import seed_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def drawn(page, testid: str):
    """The chart's plot once plotly has drawn it (charts.js marks it), scrolled to as a
    reader would: charts below the fold are drawn as they come near."""
    page.locator(f"[data-testid=chart-{testid}]").scroll_into_view_if_needed()
    plot = page.locator(f"[data-testid=chart-{testid}] .plot[data-drawn='1']")
    plot.wait_for()
    return plot


def test_analyst_reads_health_drift_and_a_comparison(browser_page, users, registered):
    history = seed_history(releases=8, rollback_at=5)
    page = browser_page
    sign_in(page, "analyst")
    page.goto("/monitoring/pipeline/")
    page.click("[data-testid=nav-health]")
    plot = drawn(page, "metric-crps-1")
    assert "crps" in plot.locator(".gtitle").text_content()

    # Hover a point of the release line: plotly shows its version and value.
    # (plotly's drag layer sits above the points, so move the mouse rather than hover.)
    # The detail charts sit below every step's heatmap: scroll to the chart first.
    plot.scroll_into_view_if_needed()
    box = plot.locator(".scatterlayer .trace").first.locator(".points path").nth(2).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    hover = page.locator(".hoverlayer .hovertext").first
    hover.wait_for()
    assert "2.2.0" in hover.text_content()

    # Switch the step: the selector submits itself and the charts redraw for step 2.
    page.select_option("[data-testid=step-select]", "2")
    page.wait_for_url("**step=2**")
    assert "step 2" in drawn(page, "metric-crps-1").locator(".gtitle").text_content()
    assert page.locator("[data-testid=health-table] tr.candidate-row").count() == 1
    shoot(page, "model-health")

    page.click("[data-testid=nav-drift]")
    heat = drawn(page, "heatmap")
    assert heat.locator(".hm, image").count() >= 1  # the heatmap layer
    drawn(page, "timeline")
    shoot(page, "drift")

    page.click(f"[data-testid=drift-job-table] >> text=#{history.jobs[0].pk}")
    drawn(page, "heatmap")
    page.click("[data-testid=drift-result-table] >> text=pred_draws")
    page.wait_for_selector("[data-testid=chart-distribution] .plot[data-drawn='1']")
    # The charts below the fold wait until the reader scrolls near them.
    page.wait_for_load_state("load")
    assert page.locator("[data-testid=chart-months] .plot[data-drawn]").count() == 0
    drawn(page, "units-steps")
    drawn(page, "months")
    shoot(page, "drift-column")

    # Compare: from the candidate's page, "compare with production".
    page.goto(f"/r/pipeline/candidates/{history.candidate.pk}/")
    page.click("[data-testid=compare-with-production] a")
    drawn(page, "deltas")
    assert page.locator("[data-testid=delta-table] .verdict-worse").count() >= 1
    assert page.locator("[data-testid=compare-drift-table]").count() == 1
    shoot(page, "compare")

    page.click("[data-testid=nav-deployments]")
    row = page.locator("[data-testid=deployment-table] tr[data-version='2.2.0']")
    assert "shadow → deployed" in row.inner_text()
    shoot(page, "deployment-status")
    page.go_back()

    with page.expect_download() as info:
        page.click("[data-testid=csv-deltas]")
    download = info.value
    text = Path(download.path()).read_text()
    assert text.splitlines()[0].startswith("model,target,metric,")
    assert len(text.splitlines()) == 1 + 2 * 3 * 4  # models x metrics x steps (all, 1-3)
    assert download.suggested_filename == "pipeline-deltas.csv"
