"""Single sign-on's settings: off without an issuer, strict when on, no network at start."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from ewsdash.env import env_role_map
from ewsdash.roles import ROLE_ORDER
from tests.test_settings_env import run_check

ON = {
    "EWSDASH_OIDC_ISSUER": "http://127.0.0.1:9",  # nothing listens: start-up must not ask
    "EWSDASH_OIDC_CLIENT_ID": "ewsdash",
    "EWSDASH_OIDC_CLIENT_SECRET": "s3cret",
    "EWSDASH_OIDC_ROLE_MAP": "ews-admins=admin",
}


def test_the_role_map_reads_groups_and_roles(monkeypatch):
    monkeypatch.setenv(
        "EWSDASH_OIDC_ROLE_MAP",
        "ews-admins=admin; ews-rm=release_manager;cn=staff,ou=groups=viewer;;/a/b=analyst",
    )
    assert env_role_map("EWSDASH_OIDC_ROLE_MAP", roles=ROLE_ORDER) == {
        "ews-admins": "admin",
        "ews-rm": "release manager",
        "cn=staff,ou=groups": "viewer",
        "/a/b": "analyst",
    }


@pytest.mark.parametrize("value", ["ews-admins=boss", "ews-admins", "=admin", "g=admin;g=viewer"])
def test_a_malformed_role_map_is_refused(monkeypatch, value):
    monkeypatch.setenv("EWSDASH_OIDC_ROLE_MAP", value)
    with pytest.raises(ImproperlyConfigured, match="EWSDASH_OIDC_ROLE_MAP"):
        env_role_map("EWSDASH_OIDC_ROLE_MAP", roles=ROLE_ORDER)


@pytest.mark.parametrize("missing", ["EWSDASH_OIDC_CLIENT_SECRET", "EWSDASH_OIDC_ROLE_MAP"])
def test_an_issuer_without_its_client_or_role_map_stops_start_up(tmp_path, missing):
    env = {k: v for k, v in ON.items() if k != missing}
    result = run_check({**env, "EWSDASH_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0 and missing in result.stderr


@pytest.mark.parametrize(
    "issuer", ["http://idp.example.org", "http://127.0.0.1.example.org", "idp.example.org"]
)
def test_a_plain_http_issuer_elsewhere_than_this_machine_is_refused(tmp_path, issuer):
    env = {**ON, "EWSDASH_OIDC_ISSUER": issuer}
    result = run_check({**env, "EWSDASH_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0 and "EWSDASH_OIDC_ISSUER" in result.stderr


def test_configured_single_sign_on_starts_without_reaching_the_provider(tmp_path):
    result = run_check({**ON, "EWSDASH_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
