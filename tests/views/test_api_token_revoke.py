"""Revoke one of your own API tokens: it stops working at once; others' are not yours."""

import pytest
from django.urls import reverse

from api.models import ApiToken
from api.tokens import token_create
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def revoke_url(token) -> str:
    return reverse("api_token_revoke", kwargs={"pk": token.pk})


def test_it_revokes_your_token_and_the_api_refuses_it(post, login, users, registered):
    plain = token_create(user=users["viewer"], name="laptop")
    token = ApiToken.objects.get(name="laptop")
    api = login(None)
    assert api.get("/api/v1/repositories", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 200

    response = post("viewer", revoke_url(token))

    assert response["Location"] == reverse("api_token_list")
    assert flashes(response) == ["Token 'laptop' revoked."]
    assert api.get("/api/v1/repositories", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 401
    (event,) = events("token.revoked")
    assert event.actor_name == "viewer"


def test_it_does_not_find_another_users_token(post, users, registered):
    token_create(user=users["admin"], name="admins")
    token = ApiToken.objects.get(name="admins")

    response = post("viewer", revoke_url(token))

    assert response.status_code == 404
    token.refresh_from_db()
    assert events("token.revoked") == []
