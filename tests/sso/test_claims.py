"""Reading the group claim: providers send a list, or one name; anything else gives nothing."""

from __future__ import annotations

import pytest

from accounts.services import claim_groups, roles_for_groups
from tests.sso.conftest import ROLE_MAP


@pytest.fixture(autouse=True)
def role_map(settings):
    settings.EWSDASH_OIDC_GROUPS_CLAIM = "roles"
    settings.EWSDASH_OIDC_ROLE_MAP = ROLE_MAP


@pytest.mark.parametrize(
    ("claims", "groups"),
    [
        ({"roles": ["ews-staff", "x"]}, ["ews-staff", "x"]),
        ({"roles": "ews-admins"}, ["ews-admins"]),
        ({"roles": {"ews-admins": True}}, []),
        ({"groups": ["ews-admins"]}, []),  # another claim than the configured one
        ({}, []),
    ],
)
def test_it_reads_the_configured_claim(claims, groups):
    assert claim_groups(claims) == groups


def test_roles_come_highest_first_and_unknown_groups_give_none():
    assert roles_for_groups(["ews-staff", "nobody", "ews-admins", "ews-staff"]) == [
        "admin",
        "viewer",
    ]
    assert roles_for_groups(["EWS-ADMINS", "nobody"]) == []  # names match exactly
