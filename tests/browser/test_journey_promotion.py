"""Journeys: a candidate from creation to release through four people; an analyst who
cannot act; an admin who rolls production back."""

import pytest

from releases.models import Release
from tests.browser.conftest import accept_dialogs, shoot, sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def fix_the_regression_on_development(tmp_path, origin) -> None:
    """The pipeline team merges the calibration fix into development (the git route)."""
    from tests.support.gitrepo import GitWorld

    work = tmp_path / "team"
    world = GitWorld.__new__(GitWorld)
    world.root, world.origin, world.work = tmp_path, origin.path, work
    world._clock = iter(range(10_000, 20_000))
    world.git_in(tmp_path, "clone", "--quiet", str(origin.path), str(work))
    world.checkout("development")
    world.git(
        "merge",
        "--quiet",
        "--no-ff",
        "-m",
        "Merge feature/orange-pasta-calibration",
        "origin/feature/orange-pasta-calibration",
    )
    world.git("push", "--quiet", "origin", "development")


def test_candidate_to_release_then_rollback(
    browser_page, celery_worker_process, users, demo, tmp_path, live_server
):
    origin, repository = demo
    fix_the_regression_on_development(tmp_path, origin)
    page = browser_page
    accept_dialogs(page)

    # rm-ana back-merges production (the v1.2.1 hotfix) and creates the candidate.
    sign_in(page, "rm-ana")
    page.click("text=Sync now")
    page.click("nav >> text=Overview")
    page.click("[data-testid=back-merge]")
    # The request only records the operation; its page follows the worker's progress.
    assert "Merging production into development" in page.inner_text(".messages")
    page.wait_for_selector('[data-testid=operation][data-status="succeeded"]', timeout=120_000)
    assert "merged into development" in page.inner_text("[data-testid=operation-progress]")
    page.click("nav >> text=Candidates")
    page.click("text=Freeze head as candidate")
    # The request records the intent; the operation's page follows the worker, which
    # syncs, freezes the head and links the new candidate.
    page.wait_for_selector('[data-testid=operation][data-status="succeeded"]', timeout=120_000)
    page.click("[data-testid=operation-candidate]")
    page.wait_for_selector('[data-testid=candidate-status]:has-text("validated")', timeout=240_000)
    assert page.locator("[data-testid=approve]").is_disabled()
    assert "You created this candidate" in page.inner_text("[data-testid=approve-refusal]")
    candidate_url = page.url
    sign_out(page)

    for reviewer in ("rm-ben", "admin"):
        sign_in(page, reviewer)
        page.goto(candidate_url)
        page.fill("input[name=comment]", f"reviewed by {reviewer}")
        page.click("[data-testid=approve]")
        assert "Your approval is recorded" in page.inner_text(".messages")
        sign_out(page)

    sign_in(page, "rm-ben")
    page.goto(candidate_url)
    assert page.locator('[data-gate="approvals"][data-ok="true"]').count() == 1
    shoot(page, "candidate")
    page.click("[data-testid=promote]")
    page.wait_for_selector("[data-testid=released-as]", timeout=120_000)
    page.click("[data-testid=released-as] a")
    assert page.locator("[data-testid=release-version]").inner_text() == "v1.3.0"
    assert "live" in page.inner_text("[data-testid=release-facts]")
    sign_out(page)

    # The analyst sees no buttons, and a hand-made POST is refused.
    sign_in(page, "analyst")
    page.goto(candidate_url)
    assert page.locator("[data-testid=approve], [data-testid=promote]").count() == 0
    page.goto(f"{live_server.url}/r/views-pipeline/releases/1.2.1/")
    assert page.locator("[data-testid=rollback-start]").count() == 0
    status = page.evaluate("""async () => {
        const token = document.querySelector('input[name=csrfmiddlewaretoken]').value;
        const r = await fetch('/r/views-pipeline/releases/1.2.1/rollback/confirm/', {
            method: 'POST', headers: {'X-CSRFToken': token,
            'Content-Type': 'application/x-www-form-urlencoded'},
            body: 'reason=mine&confirm=yes'});
        return r.status; }""")
    assert status == 403
    sign_out(page)

    # The admin rolls production back to v1.2.1 with a reason.
    sign_in(page, "admin")
    page.goto(f"{live_server.url}/r/views-pipeline/releases/1.2.1/")
    page.click("[data-testid=rollback-start]")
    assert page.inner_text("[data-testid=rollback-version]") == "1.3.1"
    assert "1.3.0" in page.inner_text("[data-testid=versions-undone]")
    page.fill("textarea[name=reason]", "v1.3.0 forecasts diverge from the monthly review")
    page.check("input[name=confirm]")
    page.click("[data-testid=rollback-confirm]")
    page.wait_for_selector('[data-testid=operation][data-status="succeeded"]', timeout=120_000)
    page.click("[data-testid=operation-release]")
    assert page.locator("[data-testid=release-version]").inner_text() == "v1.3.1"
    page.click("nav >> text=Overview")
    assert "rolled back to the tree of v1.2.1" in page.inner_text("[data-testid=rollback-notice]")
    page.click("nav >> text=Audit")
    assert "release.rolled_back" in page.inner_text("[data-testid=audit-table]")
    shoot(page, "audit")

    import subprocess

    def origin_git(*args):
        return subprocess.run(
            ["git", "--git-dir", str(origin.path), *args],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    assert origin_git("rev-parse", "production^{tree}") == origin_git("rev-parse", "v1.2.1^{tree}")
    assert Release.objects.get(version="1.3.1").kind == "rollback"
