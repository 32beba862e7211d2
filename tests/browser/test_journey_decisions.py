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


def test_what_changes_in_production_if_i_promote(browser_page, history):
    """From the candidate to compare: the regressions table worst first on both pages,
    the logs closed, the code changes card."""
    page = browser_page
    candidate = history.candidate
    sign_in(page, "analyst")
    page.goto(f"/r/pipeline/candidates/{candidate.pk}/")
    regressions = page.locator("[data-testid=candidate-regressions]")
    assert "4 regressions beyond tolerance" in regressions.inner_text()
    first = regressions.locator("tbody tr").first
    assert first.get_attribute("data-verdict") == "regressed"
    cells = first.locator("td").all_inner_texts()
    assert cells[:3] == ["lr_bright_sky", "ged_sb", "crps"]
    assert cells[5] == "9" and cells[7].startswith("+") and cells[7].endswith("%")
    assert page.locator("[data-testid=log-details][open]").count() == 0

    page.click("[data-testid=compare-with-production] a")
    page.wait_for_selector("#plot-deltas .main-svg")
    assert "4 regressions beyond tolerance" in page.inner_text("[data-testid=regression-count]")
    header = page.locator("[data-testid=delta-table] thead").inner_text()
    for column in ("Model", "Target", "Metric", "Step", "v2.4.0", "Δ", "Δ%", "Tolerance"):
        assert column in header
    rows = page.locator("[data-testid=delta-table] tbody tr")
    verdicts = [rows.nth(i).get_attribute("data-verdict") for i in range(rows.count())]
    assert verdicts[:4] == ["regressed"] * 4 and "regressed" not in verdicts[4:]
    assert "sync the repository first" in page.inner_text("[data-testid=code-changes]")
    shoot(page, "compare")
