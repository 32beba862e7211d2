"""Journey: an analyst reads the Releases page and a release's detail page."""

import pytest

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_analyst_reads_releases_and_a_release(browser_page, users, demo):
    page = browser_page
    sign_in(page, "analyst")
    page.click("nav >> text=Releases")
    rows = page.locator("[data-testid=release-row]")
    assert rows.count() == 4
    newest = rows.first.inner_text()
    assert newest.startswith("1.2.1") and "v1.2.1" in newest  # newest first
    assert "live" in page.locator("[data-testid=release-row]", has_text="v1.2.1").inner_text()
    page.click("[data-testid=release-row] >> text=1.1.0")
    assert page.locator("[data-testid=release-version]").inner_text() == "v1.1.0"
    assert page.locator("[data-testid=release-changelog]").inner_text().strip()
    assert page.locator("[data-testid=rollback-start]").count() == 0  # analysts cannot
