"""Your API tokens on your own page: made (shown once), listed with their last use, revoked."""

import re

import pytest

from api.models import ApiToken
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def test_a_token_is_shown_once_and_works(login, registered):
    client = login("rm-ana")
    response = client.post_form("/account/tokens/new/", {"name": "ci", "scope": "write"})
    assert response.status_code == 200
    [token] = re.findall(r'data-testid="new-token-value">(ews_[^<]+)<', response.content.decode())
    assert ApiClient(token).get("/api/v1/repositories").status_code == 200
    listing = client.get("/account/tokens/").content.decode()
    assert token not in listing
    assert "ci" in listing and "read and write" in listing
    assert "never" not in listing  # its use just now is shown


def test_a_token_is_revoked_from_the_page(login, registered, users):
    client = login("viewer")
    body = client.post_form("/account/tokens/new/", {"name": "ci"}).content.decode()
    [token] = re.findall(r'data-testid="new-token-value">(ews_[^<]+)<', body)
    row = ApiToken.objects.get(user=users["viewer"], name="ci")
    assert row.scope == "read"
    response = client.post_form(f"/account/tokens/{row.pk}/revoke/")
    assert response.status_code == 302
    assert ApiClient(token).get("/api/v1/repositories").status_code == 401
    assert "revoked" in client.get("/account/tokens/").content.decode()


def test_nobody_revokes_anothers_token(login, registered, users):
    login("viewer").post_form("/account/tokens/new/", {"name": "mine"})
    row = ApiToken.objects.get(name="mine")
    assert login("admin").post_form(f"/account/tokens/{row.pk}/revoke/").status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None


def test_a_token_needs_a_name(login, registered):
    response = login("viewer").post_form("/account/tokens/new/", {"name": " "})
    assert response.status_code == 400
    assert b"needs a name" in response.content
    assert not ApiToken.objects.exists()
