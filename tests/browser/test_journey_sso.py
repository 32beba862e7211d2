"""Journey: a release manager signs in with the organisation's account, through a real
OpenID provider's login and consent pages, and lands on the Overview with the role their
group gives; when the provider moves them to another group, or out of every mapped one,
their next sign-in says so."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import shoot, sign_out
from tests.sso.conftest import sso_settings
from tests.support.oidc import OidcProvider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LOCAL = {"127.0.0.1", "localhost"}


@pytest.fixture
def provider(live_server, tmp_path, settings, role_groups):
    started = OidcProvider(tmp_path, [f"{live_server.url}/oidc/callback/"]).start()
    sso_settings(settings, started.issuer)
    yield started
    started.stop()


def sign_on(page, provider: OidcProvider, login: str) -> None:
    """The SSO button, then the provider's own pages (its session remembers a person who
    signed in before: then it asks nothing and sends the browser straight back)."""
    page.goto("/login/")
    page.click("[data-testid=sso-sign-in]")
    page.wait_for_load_state()
    if page.url.startswith(provider.issuer) and page.locator("input[name=login]").count():
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", "correct horse battery staple")
        shoot(page, "sso-provider-login")
        page.click("button[type=submit]")
        page.wait_for_load_state()
    if page.url.startswith(provider.issuer):
        page.click("button:has-text('Continue')")  # consent
    page.wait_for_url(lambda url: not url.startswith(provider.issuer))


def test_release_manager_signs_on_and_roles_follow_the_group_claim(browser_page, provider, demo):
    page = browser_page
    reached: list[str] = []
    # Nothing leaves this machine (the provider's pages would fetch a web font).
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if urlsplit(route.request.url).hostname in LOCAL
            else (reached.append(route.request.url), route.abort())
        ),
    )
    provider.set_account(
        "u-rita", preferred_username="rita", email="rita@views.example", groups=["ews-release"]
    )

    page.goto("/login/")
    assert page.locator("#id_password").count() == 1  # local accounts still sign in here
    button = page.locator("[data-testid=sso-sign-in]")
    assert button.inner_text() == "Sign in with the VIEWS account"
    shoot(page, "sso-login")
    sign_on(page, provider, "u-rita")

    page.wait_for_selector("[data-testid=signed-in-user]")
    assert urlsplit(page.url).path == "/r/views-pipeline/"  # the Overview
    assert page.locator("[data-testid=signed-in-user]").inner_text() == "rita"
    assert page.locator(".who .role").inner_text() == "release manager"
    shoot(page, "sso-overview")

    # The provider moves Rita to the staff group: her next sign-in makes her a viewer.
    sign_out(page)
    provider.set_account("u-rita", preferred_username="rita", groups=["ews-staff"])
    sign_on(page, provider, "u-rita")
    page.wait_for_selector("[data-testid=signed-in-user]")
    assert page.locator(".who .role").inner_text() == "viewer"

    # Out of every mapped group: refused, and told why, on the sign-in page.
    sign_out(page)
    provider.set_account("u-rita", preferred_username="rita", groups=["other-team"])
    sign_on(page, provider, "u-rita")
    page.wait_for_url("**/login/")
    assert "no group that gives an ewsdash role" in page.locator(".messages").inner_text()
    assert page.locator("[data-testid=signed-in-user]").count() == 0
    assert any("fonts.googleapis.com" in url for url in reached)  # it tried; it was stopped
