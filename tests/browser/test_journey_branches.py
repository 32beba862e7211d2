"""Journey: a release manager syncs the Branches page; a viewer has no Sync button."""

import pytest

from releases import services, sync
from tests.browser.conftest import sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_release_manager_syncs_and_viewer_cannot(browser_page, celery_worker_process, users, world):
    page = browser_page
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    sync.repository_sync(repository=repository)
    # Something new at the origin that only a sync can show.
    world.checkout("feature/fresh-from-origin", new_from="development")
    world.commit("feat: <b>new</b> work pushed while the page was open")
    world.push("feature/fresh-from-origin")

    sign_in(page, "rm-ana")
    page.click("nav >> text=Branches")
    table = page.locator("[data-testid=branch-table]")
    assert table.locator("tr[data-branch]").count() == 5
    assert page.locator("[data-testid=dev-behind]").inner_text() == (
        "Development is 2 commits behind production"
    )

    page.click("[data-testid=sync-now]")
    page.wait_for_selector('tr[data-branch="feature/fresh-from-origin"]', timeout=60_000)
    assert table.locator("tr[data-branch]").count() == 6
    row = page.locator('tr[data-branch="feature/fresh-from-origin"]')
    assert "feat: <b>new</b> work pushed" in row.inner_text()  # shown as text, not markup
    assert page.locator("[data-testid=sync-waiting]").count() == 0
    sign_out(page)

    sign_in(page, "viewer")
    page.click("nav >> text=Branches")
    page.wait_for_selector("[data-testid=branch-table]")
    assert page.locator("[data-testid=sync-now]").count() == 0
    assert page.locator("[data-testid=signed-in-user]").inner_text() == "viewer"
