"""django-axes throttles password guessing; single sign-on tries no password, so its
refusals are never counted against an address everyone may share."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from tests.conftest import PASSWORD, CsrfClient
from tests.sso.test_sign_in import sign_in, signed_in_as

pytestmark = pytest.mark.django_db


def test_refused_sign_ons_lock_nobody_out(sso, settings):
    settings.AXES_FAILURE_LIMIT = 2
    sso.set_account("u-dee", preferred_username="dee", groups=["other-team"])
    for _ in range(3):
        _, response = sign_in(sso, "u-dee")
        assert response["Location"] == reverse("login")
    assert AccessAttempt.objects.count() == 0

    sso.set_account("u-ok", preferred_username="ok", groups=["ews-staff"])
    client, _ = sign_in(sso, "u-ok")
    assert signed_in_as(client) == "ok"


def test_wrong_passwords_are_still_counted_with_single_sign_on_on(sso, users, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client = CsrfClient()
    for _ in range(2):
        client.post_form(reverse("login"), {"username": "admin", "password": "wrong"})
    response = client.post_form(reverse("login"), {"username": "admin", "password": PASSWORD})
    assert response.status_code == 429 and signed_in_as(client) is None
