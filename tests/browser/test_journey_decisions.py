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
    # Its creator may withdraw it.
    assert page.locator("[data-testid=cancel-candidate]").is_enabled()
    page.click("text=Sign out")

    # rm-ana opens it; meanwhile the admin cancels it; her approval comes back to this page.
    sign_in(page, "rm-ana")
    page.goto(url)
    assert page.locator("[data-testid=approve]").is_enabled()
    # Cancel is not hers to press: shown disabled, with the reason beside it.
    assert page.locator("[data-testid=cancel-candidate]").is_disabled()
    assert "Only the candidate's creator or an admin can cancel it." in page.inner_text(
        "[data-testid=cancel-refusal]"
    )
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
    shoot(page, "compare-regressions")


def roll_back_to(history, index: int):
    """Production rolled back to the tree of release `index` as v2.5.0 (no run of its own)."""
    from releases.models import Release, ReleaseLine

    rollback = Release.objects.create(
        repository=history.repository,
        version="2.5.0",
        tag="v2.5.0",
        commit="f" * 40,
        kind="rollback",
        on_production=True,
        restores=history.releases[index],
        rolls_back=history.releases[-1],
    )
    Release.objects.filter(pk=history.releases[-1].pk).update(rolled_back_by=rollback)
    ReleaseLine.objects.filter(repository=history.repository).update(latest_release=rollback)
    return rollback


def test_model_health_opens_on_data_every_step_then_one(browser_page, users, registered):
    history = seed_history(steps=[1, 2, 3], candidate=False, rollback_at=None)
    roll_back_to(history, 1)
    page = browser_page
    sign_in(page, "analyst")
    page.goto("/monitoring/pipeline/health/")
    page.wait_for_selector("#plot-steps-crps-1 .main-svg")
    assert "v2.5.0 ★" in page.inner_text("[data-testid=live-release]")
    assert page.inner_text("[data-testid=tolerance]") == "5% relative"
    assert page.inner_text("[data-testid=detail-heading]").startswith("Step 1 in detail")
    # The detail charts are below the fold: drawn as the reader scrolls to them.
    page.locator("#plot-metric-crps-1").scroll_into_view_if_needed()
    page.wait_for_selector("#plot-metric-crps-1 .main-svg")
    traces = page.evaluate(
        "() => document.getElementById('plot-metric-crps-1').data.map(t => [t.name, t.x])"
    )
    assert ["live on production", ["2.5.0"]] in traces
    assert page.locator("[data-testid=step-heatmaps] .plot").count() == 3
    shoot(page, "model-health-after-rollback")

    # A click on the heatmap's third row (step 3) opens that step in detail.
    box = page.locator("#plot-steps-crps-1 .nsewdrag").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.85)
    page.wait_for_url("**step=3**")
    assert page.inner_text("[data-testid=detail-heading]").startswith("Step 3 in detail")


POINT_AT = """([plot, version]) => {
    const gd = document.getElementById(plot);
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    const trace = gd.data.find(t => t.name === 'release');
    const i = trace.x.indexOf(version);
    const box = gd.getBoundingClientRect();
    return [box.left + xa._offset + xa.l2p(xa.d2l(version)),
            box.top + ya._offset + ya.l2p(trace.y[i])];
}"""


def test_deciding_beside_the_evidence(browser_page, users, registered):
    """A release manager approves the candidate from model health and stays there; an admin
    clicks the point of the imported v1.0.0 (a real commit of production) and lands on its
    rollback preview, after a confirmation."""
    from releases.models import Release
    from tests.monitoring_pages.factories import make_run

    history = seed_history()
    v100 = Release.objects.get(repository=registered, version="1.0.0")
    make_run(
        registered,
        v100.commit,
        index=0,
        models=["lr_bright_sky", "hm_calm_sea"],
        metrics=["crps", "mse", "coverage"],
        steps=[None, 1, 2, 3],
    )
    page = browser_page
    sign_in(page, "rm-ana")
    page.goto("/monitoring/pipeline/health/?subject=lr_bright_sky|ged_sb")
    assert "0 of 2 approvals" in page.inner_text("[data-testid=decision-bar]")
    page.fill("[data-testid=decision-bar] input[name=comment]", "the crps jump is a units fix")
    page.click("[data-testid=bar-approve]")
    page.wait_for_selector(".messages")
    assert "/monitoring/pipeline/health/" in page.url and "lr_bright_sky" in page.url
    assert "Your approval is recorded" in page.inner_text(".messages")
    assert "1 of 2 approvals" in page.inner_text("[data-testid=decision-bar]")
    assert page.locator("[data-testid=bar-approve]").is_disabled()
    assert history.candidate.approvals.get().comment == "the crps jump is a units fix"
    page.click("text=Sign out")

    sign_in(page, "admin")
    page.goto("/monitoring/pipeline/health/")
    page.locator("#plot-metric-crps-1").scroll_into_view_if_needed()
    page.wait_for_selector("#plot-metric-crps-1 .main-svg")
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    x, y = page.evaluate(POINT_AT, ["plot-metric-crps-1", "1.0.0"])
    page.mouse.move(x, y)
    page.mouse.click(x, y)
    page.wait_for_url("**/releases/1.0.0/rollback/")
    assert asked and asked[0].startswith("Roll production back to v1.0.0?")
    assert page.locator("[data-testid=rollback-confirm]").count() == 1
    shoot(page, "rollback-from-health")

    # The table row leads to the same preview.
    page.goto("/monitoring/pipeline/health/")
    page.click("[data-testid=rollback-to-1\\.0\\.0]")
    page.wait_for_url("**/releases/1.0.0/rollback/")
