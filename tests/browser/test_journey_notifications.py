"""Journey: an admin sees the header's count (an open incident), redelivers a failed
delivery from the deliveries page, and turns an e-mail off on their notifications page;
all under the strict Content-Security-Policy."""

import pytest

from notifications.models import Delivery, DeliveryStatus, Preference
from releases import services, sync
from releases.models import AuditEvent
from tests.browser.conftest import accept_dialogs, sign_in, sign_out
from tests.notifications.factories import sent_delivery
from tests.promotion.factories import open_incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_counts_redelivers_and_chooses_emails(browser_page, users, world):
    page = browser_page
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    sync.repository_sync(repository=repository)
    open_incident()
    failed = sent_delivery(status=DeliveryStatus.FAILED)

    sign_in(page, "admin")
    assert page.locator("[data-testid=waiting-count]").inner_text() == "1"
    assert page.locator("[data-testid=incident-to-acknowledge]").count() == 1

    accept_dialogs(page)
    page.click("header >> text=Deliveries")
    row = page.locator("[data-testid=delivery-row]")
    assert row.count() == 1 and "HTTP 500" in row.inner_text()
    page.click("text=Redeliver")
    page.wait_for_selector(f"text=Delivery #{failed} queued again.")
    assert Delivery.objects.get(pk=failed).status == DeliveryStatus.PENDING
    assert AuditEvent.objects.filter(action="delivery.redelivered").count() == 1

    page.click("header >> text=Notifications")
    box = page.locator('input[name=email][value="freeze_started"]')
    assert box.is_checked()
    box.uncheck()
    page.click("text=Save")
    page.wait_for_selector("text=freeze_started changed")
    assert Preference.objects.get(user=users["admin"], event_key="freeze_started").email is False
    sign_out(page)

    sign_in(page, "viewer")  # nothing waits for a viewer; no deliveries link
    assert page.locator("[data-testid=waiting-count]").count() == 0
    assert page.locator("header >> text=Deliveries").count() == 0
