"""Journey in github mode: a release manager freezes a candidate, its pull request opens
on GitHub (the stateful double behind Prism's validation proxy, on a real bare
repository), an admin waives validation and approves, a second reviewer approves on
GitHub, and Promote merges the pull request and shows the release."""

import json

import pytest
import requests

from api.signatures import github_signature
from releases import identities
from releases.models import Forge, PromotionCandidate
from tests.api import webhook_payloads as hooks
from tests.browser.conftest import accept_dialogs, sign_in, sign_out
from tests.promotion.conftest import make_promotable

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PROJECT = "views-platform/pipeline"


def reload_until(page, selector: str, tries: int = 60) -> None:
    for _ in range(tries):
        if page.locator(selector).count():
            return
        page.wait_for_timeout(1000)
        page.reload()
    raise AssertionError(f"{selector} never appeared")


def test_a_candidate_is_released_through_its_pull_request(
    github_forge, browser_page, celery_worker_process, users, world, live_server
):
    from releases import services, sync

    make_promotable(world)
    project = github_forge.double.serve(PROJECT, world.origin, protected=("production",))
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    repository.forge, repository.forge_project = Forge.GITHUB, PROJECT
    repository.forge_reviews_approve = True
    repository.save()
    sync.repository_sync(repository=repository)
    identities.github_login_set(actor=users["admin"], user=users["rm-ben"], github_login="ben-gh")
    production_before = world.origin_git("rev-parse", "production")
    mark = github_forge.mark()
    page = browser_page
    accept_dialogs(page)

    sign_in(page, "rm-ana")
    page.goto("/r/pipeline/candidates/")
    page.click("text=Freeze head as candidate")
    # A worker freezes it (an operation); its page then links the candidate.
    page.click("[data-testid=operation-candidate]", timeout=120_000)
    page.wait_for_selector("[data-testid=candidate-status]")
    candidate_url = page.url
    reload_until(page, "a[data-testid=pull-request]")
    link = page.get_attribute("a[data-testid=pull-request]", "href")
    candidate = PromotionCandidate.objects.get()
    assert link == f"{github_forge.url}/{PROJECT}/pull/{candidate.forge_pull_request}"
    sign_out(page)

    # No manifest in this repository: the admin waives validation, then approves.
    sign_in(page, "admin")
    page.goto(candidate_url)
    reload_until(page, '[data-testid=candidate-status]:has-text("validation failed")')
    page.click("text=Waive validation…")
    page.fill("form:has([data-testid=waive]) input[name=reason]", "no manifest here")
    page.click("[data-testid=waive]")
    page.fill("input[name=comment]", "looks right")
    page.click("[data-testid=approve]")
    assert "Your approval is recorded" in page.inner_text(".messages")
    sign_out(page)

    # rm-ben approves the pull request on GitHub; GitHub calls the webhook.
    github_forge.double.review(
        PROJECT,
        candidate.forge_pull_request,
        login="ben-gh",
        state="APPROVED",
        commit=candidate.commit,
    )
    payload = hooks.pull_request_review(
        number=candidate.forge_pull_request, login="ben-gh", commit=candidate.commit
    )
    body = json.dumps(payload).encode()
    answer = requests.post(
        f"{live_server.url}/hooks/github/pipeline/",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "pull_request_review",
            "X-GitHub-Delivery": "journey-review",
            "X-Hub-Signature-256": github_signature(hooks.secret(), body),
        },
        timeout=10,
    )
    assert answer.status_code == 202

    sign_in(page, "rm-ana")
    page.goto(candidate_url)
    reload_until(page, '[data-gate="approvals"][data-ok="true"]')
    assert "rm-ben" in page.inner_text("body")
    page.click("[data-testid=promote]")
    page.wait_for_selector("[data-testid=released-as]", timeout=120_000)
    page.click("[data-testid=released-as] a")
    assert page.locator("[data-testid=release-version]").inner_text() == f"v{candidate.version}"

    merge = world.origin_git("rev-parse", "production")
    assert world.origin_git("rev-list", "--parents", "-n", "1", merge).split()[1:] == [
        production_before,
        candidate.commit,
    ]
    assert world.origin_git("rev-parse", f"v{candidate.version}^{{commit}}") == merge
    assert project.pulls[candidate.forge_pull_request].merged
    assert [(r, v) for r, v in github_forge.exchanges_since(mark) if v] == []
