"""Make a personal API token: shown once on the answer, stored only as a digest."""

import hashlib
import re

import pytest
from django.urls import reverse

from api.models import ApiToken
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def test_it_shows_the_new_token_once_and_keeps_only_its_digest(post, login, registered):
    response = post("viewer", reverse("api_token_create"), {"name": "laptop", "scope": "read"})

    assert response.status_code == 200
    token = ApiToken.objects.get(user__username="viewer", name="laptop")
    (shown,) = re.findall(rf"ews_{token.prefix}_[A-Za-z0-9_-]+", response.content.decode())
    assert token.digest == hashlib.sha256(shown.encode()).hexdigest() != shown
    (event,) = events("token.created")
    assert event.actor_name == "viewer"
    # The list page afterwards names it but never shows it again.
    listing = login("viewer").get(reverse("api_token_list")).content.decode()
    assert "laptop" in listing and shown not in listing


def test_it_refuses_a_token_without_a_name(post, registered):
    response = post("viewer", reverse("api_token_create"), {"name": ""})

    assert response.status_code == 400
    assert flashes(response) == ["A token needs a name."]
    assert not ApiToken.objects.exists() and events("token.created") == []
