"""Chromium through Playwright, against a live server and a real worker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.support.tools import require_tool

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium():
    executable = require_tool(
        "chromium", path="/usr/bin/chromium", install="apt-get install -y chromium"
    )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API refuses to start inside a running event loop; the
    # live server does not run one, but Django's async-unsafe guard must allow
    # ORM calls from this thread while Playwright's loop is alive.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    # Every journey runs under the strict policy: no script, handler, eval or file may have
    # been refused. Only styles plotly.js adds inline may be (its bundled map library's
    # sheet, per-chart modebar colours); its global rules come from static/css/plotly.css,
    # and each journey checks its charts draw and answer the pointer.
    assert [text for text in refused if "'style-src 'self''" not in text] == []


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=signed-in-user]")


def sign_out(page) -> None:
    page.click("text=Sign out")
    page.wait_for_url("**/login/")


@pytest.fixture
def demo(tmp_path, db):
    """The demo pipeline's origin (the one `make demo` serves), registered and synced."""
    from releases import services, sync
    from releases.demo_pipeline import build_demo_origin

    origin = build_demo_origin(tmp_path / "demo")
    repository = services.repository_create(
        actor="test", name="views-pipeline", origin=str(origin.path)
    )
    sync.repository_sync(repository=repository)
    return origin, repository


BASE = Path(__file__).resolve().parents[2]
# `make screenshots` refreshes the README's pictures; other runs keep theirs under var/,
# so a test run never changes tracked files.
SCREENSHOTS = (
    BASE / "docs" / "screenshots"
    if os.environ.get("EWSDASH_UPDATE_SCREENSHOTS") == "1"
    else BASE / "var" / "screenshots"
)


def shoot(page, name: str) -> None:
    """Save the page's picture (the README's, under `make screenshots`), every chart
    drawn (charts.js draws those below the fold only as they come near)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    plots = page.locator(".plot[data-figure]")
    for i in range(plots.count()):
        plots.nth(i).scroll_into_view_if_needed()
    if plots.count():
        page.wait_for_function(
            "[...document.querySelectorAll('.plot[data-figure]')].every(el => el.dataset.drawn)"
        )
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def accept_dialogs(page) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
