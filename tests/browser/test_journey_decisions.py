"""Journeys: deciding where the evidence is. A refusal comes back to the page it came from
and names what is missing; buttons that cannot be used now are disabled with the reason."""

import pytest

from releases import candidates
from releases.models import PromotionCandidate
from tests.browser.conftest import accept_dialogs, shoot, sign_in
from tests.monitoring_pages.factories import seed_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def history(users, registered):
    return seed_history()


def test_a_stale_approval_returns_to_the_candidate_and_says_why(browser_page, history, users):
    page = browser_page
    accept_dialogs(page)
    candidate = history.candidate
    url = f"/r/pipeline/candidates/{candidate.pk}/"

    # Its creator sees Approve disabled with the reason, Promote disabled naming what is missing.
    sign_in(page, "rm-ben")
    page.goto(url)
    assert page.locator("[data-testid=approve]").is_disabled()
    assert "You created this candidate" in page.inner_text("[data-testid=approve-refusal]")
    assert page.locator("[data-testid=promote]").is_disabled()
    assert "Approvals: 0 of 2" in page.inner_text("[data-testid=promote-refusal]")
    page.click("text=Sign out")

    # rm-ana opens it; meanwhile the admin cancels it; her approval comes back to this page.
    sign_in(page, "rm-ana")
    page.goto(url)
    assert page.locator("[data-testid=approve]").is_enabled()
    candidates.candidate_cancel(candidate=candidate, actor=users["admin"])
    page.click("[data-testid=approve]")
    page.wait_for_selector(".messages")
    assert page.url.endswith(url)
    assert "was cancelled; it can no longer change" in page.inner_text(".messages")
    assert "cancelled" in page.inner_text("[data-testid=final-state]")
    assert page.locator("[data-testid=gates], [data-testid=approve]").count() == 0
    assert PromotionCandidate.objects.get(pk=candidate.pk).approvals.count() == 0
    shoot(page, "candidate-refused")
