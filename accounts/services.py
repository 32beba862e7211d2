"""Signing in through the organisation's identity provider: the account and its roles.

A person's roles come from the provider's group claim, through the role map
(`EWSDASH_OIDC_ROLE_MAP`), and are set again at every sign-in: a group the provider no
longer lists takes its role away. Someone whose groups give no role is refused; an account
an admin deactivated stays refused whatever the provider says.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import OidcAccount
from ewsdash.roles import ADMIN, ROLE_ORDER
from releases.audit import audit_record

# The actor of the changes a sign-in makes: the provider's claims decide them, not a person.
SSO_ACTOR = "single sign-on"
NO_ROLE = (
    "Your account at {name} is in no group that gives an ewsdash role. "
    "Ask an admin to add you to one."
)
DEACTIVATED = "This ewsdash account is deactivated. Ask an admin."


class SignInRefused(Exception):
    """The provider vouched for the person, but ewsdash does not let them in."""


def claim_groups(claims: dict[str, Any]) -> list[str]:
    """The groups the provider lists for the person (one name, or a list of names)."""
    value = claims.get(settings.EWSDASH_OIDC_GROUPS_CLAIM) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [str(group) for group in value]


def roles_for_groups(groups: list[str]) -> list[str]:
    """The roles the mapped groups give, highest first (unknown groups give nothing)."""
    role_map = settings.EWSDASH_OIDC_ROLE_MAP
    mapped = {role_map[group] for group in groups if group in role_map}
    return [role for role in ROLE_ORDER if role in mapped]


def _free_username(claims: dict[str, Any]) -> str:
    """The username claim made valid for Django, with `-2`, `-3`, … when someone has it
    already (in any case): an existing account is never taken over."""
    wanted = str(claims.get(settings.EWSDASH_OIDC_USERNAME_CLAIM) or claims["sub"])
    base = re.sub(r"[^\w.@+-]", "-", wanted)[:140].strip("-") or "user"
    users = get_user_model().objects
    candidate, number = base, 1
    while users.filter(username__iexact=candidate).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _user_create(*, issuer: str, subject: str, claims: dict[str, Any]) -> Any:
    email = claims.get("email")
    user = get_user_model().objects.create_user(
        _free_username(claims), email=email if isinstance(email, str) else ""
    )  # no password: this account signs in through the provider only
    OidcAccount.objects.create(user=user, issuer=issuer, subject=subject)
    audit_record(
        actor=SSO_ACTOR,
        action="user.created",
        obj=user,
        payload={"issuer": issuer, "subject": subject},
    )
    return user


def _roles_sync(*, user: Any, roles: list[str], groups: list[str], issuer: str) -> None:
    """Give the user exactly `roles` (and the admin site with the admin role), audited."""
    before = [role for role in ROLE_ORDER if role in {g.name for g in user.groups.all()}]
    staff = ADMIN in roles
    if before == roles and user.is_staff == staff:
        return
    role_groups = {group.name: group for group in Group.objects.filter(name__in=ROLE_ORDER)}
    user.groups.remove(*(role_groups[role] for role in before if role not in roles))
    user.groups.add(*(role_groups[role] for role in roles if role not in before))
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])
    audit_record(
        actor=SSO_ACTOR,
        action="user.roles_changed",
        obj=user,
        payload={
            "before": before,
            "after": roles,
            "groups": [g for g in groups if g in settings.EWSDASH_OIDC_ROLE_MAP],
            "issuer": issuer,
        },
    )


def oidc_user_sign_in(*, issuer: str, claims: dict[str, Any]) -> Any:
    """The user the provider's verified claims sign in as, created on first sign-in, with
    the roles their groups give now. Raises SignInRefused (after committing a role
    removal) for a deactivated account or groups that give no role."""
    subject = str(claims.get("sub") or "")
    if not subject:
        raise SignInRefused("The identity provider did not say who you are.")
    groups = claim_groups(claims)
    roles = roles_for_groups(groups)
    with transaction.atomic():
        link = (
            OidcAccount.objects.select_for_update()
            .select_related("user")
            .filter(issuer=issuer, subject=subject)
            .first()
        )
        if link is None:
            if not roles:
                raise SignInRefused(NO_ROLE.format(name=settings.EWSDASH_OIDC_NAME))
            user = _user_create(issuer=issuer, subject=subject, claims=claims)
        else:
            user = link.user
            if not user.is_active:
                raise SignInRefused(DEACTIVATED)
        _roles_sync(user=user, roles=roles, groups=groups, issuer=issuer)
        OidcAccount.objects.filter(user=user).update(last_sign_in_at=timezone.now())
    if not roles:
        raise SignInRefused(NO_ROLE.format(name=settings.EWSDASH_OIDC_NAME))
    return user
