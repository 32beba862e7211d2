"""Journey: a release manager creates a candidate in the demo, watches the checks run
live on the worker, and opens the failing check's log."""

import pytest

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_rm_watches_validation_live_and_reads_the_failing_log(
    browser_page, celery_worker_process, users, demo
):
    page = browser_page
    sign_in(page, "rm-ana")
    page.click("nav >> text=Candidates")
    page.click("text=Freeze head as candidate")
    # The request records the intent; the operation's page follows the worker, which
    # syncs, freezes the head and links the new candidate.
    page.wait_for_selector('[data-testid=operation][data-status="succeeded"]', timeout=120_000)
    page.click("[data-testid=operation-candidate]")
    page.wait_for_selector("[data-testid=run-panel]")
    # The checks appear and move while the page is open (htmx polling, no reload).
    page.wait_for_selector('[data-check="unit-tests"][data-status="passed"]', timeout=120_000)
    page.wait_for_selector('[data-testid=run-panel][data-status="failed"]', timeout=180_000)
    # The candidate takes the run's verdict; then nothing on the page polls any more.
    page.wait_for_selector(
        '[data-testid=candidate-status]:has-text("validation failed")', timeout=30_000
    )
    failing = page.locator('[data-check="performance"]')
    assert failing.get_attribute("data-status") == "failed"
    assert "orange_pasta" in failing.inner_text() and "coverage" in failing.inner_text()
    # A failed check's log is open once the run is over; open it if it is not.
    details = failing.locator("details", has=page.locator("[data-testid=log]"))
    if not details.evaluate("d => d.open"):
        failing.locator("summary", has_text="Log").click()
    log = failing.locator("[data-testid=log]")
    log.wait_for(state="visible")
    assert "regression" in log.inner_text()
