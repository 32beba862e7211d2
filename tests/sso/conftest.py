"""Single sign-on against a real OpenID provider (tests/support/oidc.py), one per session."""

from __future__ import annotations

import pytest

from accounts import oidc
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, OidcProvider

# The groups of the provider's accounts, and the roles they give (EWSDASH_OIDC_ROLE_MAP).
ROLE_MAP = {
    "ews-admins": "admin",
    "ews-release": "release manager",
    "ews-analysts": "analyst",
    "ews-staff": "viewer",
}


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    provider = OidcProvider(
        tmp_path_factory.mktemp("oidc"), ["http://testserver/oidc/callback/"]
    ).start()
    yield provider
    provider.stop()


def sso_settings(settings, issuer: str) -> None:
    """What EWSDASH_OIDC_* would give ewsdash/settings.py for this provider."""
    settings.EWSDASH_OIDC_ISSUER = issuer
    settings.EWSDASH_OIDC_NAME = "the VIEWS account"
    settings.EWSDASH_OIDC_ROLE_MAP = ROLE_MAP
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_SCOPES = "openid email profile groups"
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "accounts.oidc.OidcBackend",
    ]
    oidc._discovered.clear()


@pytest.fixture
def sso(settings, oidc_provider, role_groups):
    """ewsdash configured for the provider; its accounts start empty."""
    sso_settings(settings, oidc_provider.issuer)
    oidc_provider.reset()
    return oidc_provider
