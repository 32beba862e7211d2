"""OpenID Connect through mozilla-django-oidc, with the endpoints from the issuer's
discovery document.

mozilla-django-oidc does the protocol (state, nonce, PKCE, the code exchange, the ID
token's signature against the provider's keys). What it leaves to its users is here: the
endpoints (read from `EWSDASH_OIDC_ISSUER/.well-known/openid-configuration` when someone
first signs in, not at start-up, so ewsdash starts without the provider), the ID token's
issuer and audience, and who the claims sign in as (accounts.services).
"""

from __future__ import annotations

import time
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.shortcuts import redirect
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.services import SignInRefused, oidc_user_sign_in

DISCOVERY_MAX_AGE = 3600  # seconds; a provider rotating endpoints is seen within the hour
ENDPOINTS = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
_discovered: dict[str, tuple[float, dict[str, Any]]] = {}


class ProviderUnavailable(Exception):
    """The identity provider's discovery document could not be read."""


def provider_metadata() -> dict[str, Any]:
    """The configured issuer's discovery document (cached for an hour per process)."""
    issuer = settings.EWSDASH_OIDC_ISSUER
    if issuer in _discovered and time.monotonic() - _discovered[issuer][0] < DISCOVERY_MAX_AGE:
        return _discovered[issuer][1]
    try:
        response = requests.get(
            f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT
        )
        response.raise_for_status()
        metadata = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(str(error)) from None
    if not isinstance(metadata, dict) or str(metadata.get("issuer", "")).rstrip("/") != issuer:
        raise ProviderUnavailable(f"the discovery document is not {issuer}'s")
    missing = [key for key in ENDPOINTS if not metadata.get(key)]
    if missing:
        raise ProviderUnavailable(f"the discovery document has no {', '.join(missing)}")
    _discovered[issuer] = (time.monotonic(), metadata)
    return metadata


def axes_exempt(request: Any, credentials: dict[str, Any] | None) -> bool:
    """django-axes (AXES_WHITELIST_CALLABLE) throttles password guessing. A single sign-on
    callback guesses nothing (it needs this session's state and the provider's code; the
    provider throttles its own sign-in), and carries no user name: counted, a few refusals
    behind one address would lock out everyone signing on from it. So it is not counted."""
    return "nonce" in (credentials or {})


class OidcBackend(OIDCAuthenticationBackend):
    """Signs in whom the provider's verified claims name (accounts.services)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django makes a backend for every request that loads its user: the parent's
        # __init__ reads the endpoints from settings; ours come from discovery, and only
        # when someone signs in (authenticate, below).
        self.UserModel = get_user_model()
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(self, request: Any, **kwargs: Any) -> Any:
        # Only the callback's call (it passes the nonce) is ours; a password sign-in is not.
        if request is None or "nonce" not in kwargs or not settings.EWSDASH_OIDC_ISSUER:
            return None
        metadata = provider_metadata()
        self.OIDC_OP_TOKEN_ENDPOINT = metadata["token_endpoint"]
        self.OIDC_OP_USER_ENDPOINT = metadata["userinfo_endpoint"]
        self.OIDC_OP_JWKS_ENDPOINT = metadata["jwks_uri"]
        return super().authenticate(request, **kwargs)

    def get_payload_data(self, token: Any, key: Any) -> dict[str, Any]:
        # The parent checks the signature and expiry; OpenID Connect Core 3.1.3.7 also
        # asks that the token come from our issuer and be meant for us.
        try:
            payload = super().get_payload_data(token, key)
        except jwt.InvalidTokenError as error:  # expired, not yet valid, malformed
            raise SuspiciousOperation(f"The ID token is not valid: {error}") from None
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if str(payload.get("iss", "")).rstrip("/") != settings.EWSDASH_OIDC_ISSUER:
            raise SuspiciousOperation("The ID token comes from another issuer.")
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token is meant for another client.")
        return payload

    def get_userinfo(self, access_token: Any, id_token: Any, payload: Any) -> dict[str, Any]:
        """The ID token's claims with the userinfo endpoint's (some providers put the groups
        in one, some in the other); both must be about the same person."""
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("The userinfo answer is about someone else.")
        return {**payload, **userinfo}

    def get_or_create_user(self, access_token: Any, id_token: Any, payload: Any) -> Any:
        claims = self.get_userinfo(access_token, id_token, payload)
        try:
            return oidc_user_sign_in(issuer=settings.EWSDASH_OIDC_ISSUER, claims=claims)
        except SignInRefused as refusal:
            self.request.oidc_refusal = str(refusal)
            return None

    def get_user(self, user_id: Any) -> Any:
        # The parent returns deactivated users too: a deactivated account's session ends.
        user = super().get_user(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class SignInStart(OIDCAuthenticationRequestView):
    """Sends the browser to the provider's authorization endpoint."""

    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)  # the parent would read the endpoint from settings
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def get(self, request: Any) -> Any:
        self.OIDC_OP_AUTH_ENDPOINT = provider_metadata()["authorization_endpoint"]
        return super().get(request)


class SignInCallback(OIDCAuthenticationCallbackView):
    """Where the provider sends the browser back; a refusal is said on the sign-in page."""

    def login_failure(self) -> Any:
        messages.error(
            self.request,
            getattr(self.request, "oidc_refusal", "")
            or "Single sign-on did not sign you in. Try again, or ask an admin.",
        )
        return redirect("login")
