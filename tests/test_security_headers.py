"""Sign-in throttling and the Content-Security-Policy."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD, CsrfClient

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def sign_in(client: CsrfClient, username: str, password: str):
    client.get(reverse("login"))
    return client.post_form(reverse("login"), {"username": username, "password": password})


def test_five_wrong_passwords_lock_that_user_out_from_that_address(users, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    client = CsrfClient()
    for _ in range(4):
        assert sign_in(client, "rm-ana", "wrong").status_code == 200  # the form again
    assert sign_in(client, "rm-ana", "wrong").status_code == 429
    # Locked: even the right password is refused now.
    locked = sign_in(client, "rm-ana", PASSWORD)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another user from the same address is not locked out.
    other = CsrfClient()
    assert sign_in(other, "viewer", PASSWORD).status_code == 302


def test_a_successful_sign_in_resets_the_count(users):
    client = CsrfClient()
    for _ in range(4):
        sign_in(client, "rm-ben", "wrong")
    assert sign_in(client, "rm-ben", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert sign_in(client, "rm-ben", "wrong").status_code == 200


def test_every_page_carries_a_strict_content_security_policy(login, registered):
    response = login("viewer").get(reverse("repository_overview", kwargs={"name": "pipeline"}))
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in response["Content-Security-Policy"]


def test_templates_carry_no_inline_script_style_or_handler():
    """What the policy would refuse: inline handlers, inline code, style attributes."""
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"\son[a-z]+\s*=", text), path
        assert not re.search(r"\sstyle\s*=", text), path
        assert "<style" not in text, path
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
