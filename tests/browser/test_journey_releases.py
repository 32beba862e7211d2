"""Journey: an analyst reads the Releases page and a release's detail page."""

import pytest

from tests.browser.conftest import shoot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_analyst_reads_releases_and_a_release(browser_page, users, demo):
    page = browser_page
    sign_in(page, "analyst")
    shoot(page, "overview")
    page.click("nav >> text=Branches")
    page.wait_for_selector("[data-testid=branch-table]")
    shoot(page, "branches")
    page.click("nav >> text=Releases")
    shoot(page, "releases")
    rows = page.locator("[data-testid=release-row]")
    assert rows.count() == 4
    newest = rows.first.inner_text()
    assert newest.startswith("1.2.1") and "v1.2.1" in newest  # newest first
    assert "live" in page.locator("[data-testid=release-row]", has_text="v1.2.1").inner_text()
    page.click("[data-testid=release-row] >> text=1.1.0")
    assert page.locator("[data-testid=release-version]").inner_text() == "v1.1.0"
    assert page.locator("[data-testid=release-changelog]").inner_text().strip()
    shoot(page, "release")
    assert page.locator("[data-testid=rollback-start]").count() == 0  # analysts cannot
