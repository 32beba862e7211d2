"""The ID token must come from the configured issuer and be meant for ewsdash's client
(mozilla-django-oidc checks the signature and expiry; OpenID Connect Core 3.1.3.7 asks
for both). Signed here with the client secret (HS256), so each claim can be wrong alone."""

from __future__ import annotations

import time

import jwt
import pytest
from django.core.exceptions import SuspiciousOperation

from accounts.oidc import OidcBackend

ISSUER = "https://idp.example.org/realms/views"
CLIENT, SECRET = "ewsdash", "a-client-secret-of-at-least-thirty-two-bytes"


@pytest.fixture
def backend(settings):
    settings.EWSDASH_OIDC_ISSUER = ISSUER
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = CLIENT, SECRET
    settings.OIDC_RP_SIGN_ALGO = "HS256"
    return OidcBackend()


def token(**claims) -> str:
    now = int(time.time())
    fields = {"iss": ISSUER, "aud": CLIENT, "sub": "u-1", "iat": now, "exp": now + 60}
    return jwt.encode({**fields, **claims}, SECRET, algorithm="HS256")


def test_a_token_from_the_issuer_for_this_client_is_accepted(backend):
    assert backend.get_payload_data(token(aud=["other", CLIENT]), SECRET)["sub"] == "u-1"


@pytest.mark.parametrize(
    "claims",
    [{"iss": "https://evil.example.org"}, {"aud": "another-client"}, {"aud": ["a", "b"]}],
)
def test_a_token_from_elsewhere_or_for_another_client_is_refused(backend, claims):
    with pytest.raises(SuspiciousOperation):
        backend.get_payload_data(token(**claims), SECRET)


def test_an_expired_token_is_refused(backend):
    with pytest.raises(SuspiciousOperation, match="expired"):
        backend.get_payload_data(token(exp=int(time.time()) - 600), SECRET)
