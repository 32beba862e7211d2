"""People: their git identities (e-mails an admin confirms), and deactivation instead of
deletion (their decisions and audit events name them)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from releases.audit import audit_record
from releases.errors import ActionRefused
from releases.models import GitHubAccount, GitIdentity, normalise_email


def _require_user_manager(actor: Any) -> None:
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm("auth.change_user"):
        raise ActionRefused("Your role does not allow this (manage users).")


def user_deactivate(*, actor: Any, user: Any) -> None:
    """Deactivate an account: it can no longer sign in; everything it did stays attributed.

    Users are never deleted: approvals, candidates and audit events point at them.
    """
    _require_user_manager(actor)
    if user.pk == actor.pk:
        raise ActionRefused("You cannot deactivate your own account.")
    with transaction.atomic():
        locked = get_user_model().objects.select_for_update().get(pk=user.pk)
        if not locked.is_active:
            return
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        audit_record(actor=actor, action="user.deactivated", obj=locked)
    user.is_active = False


def identity_add(*, actor: Any, user: Any, email: str) -> GitIdentity:
    """Record an e-mail `user` commits as, unconfirmed. The user or an admin may add it."""
    if getattr(actor, "pk", None) != user.pk:
        _require_user_manager(actor)
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ActionRefused(f"{email!r} is not an e-mail address.") from None
    with transaction.atomic():
        if GitIdentity.objects.filter(email__iexact=email).exists():
            raise ActionRefused(f"{email} is already someone's git identity.")
        identity = GitIdentity.objects.create(user=user, email=email)
        audit_record(
            actor=actor, action="identity.added", obj=identity, payload={"user": user.username}
        )
    return identity


def identity_confirm(*, actor: Any, identity: GitIdentity) -> None:
    """An admin confirms that the e-mail is the person's: from now on it counts."""
    _require_user_manager(actor)
    if identity.user_id == actor.pk:
        raise ActionRefused("Another admin must confirm your own git identity.")
    with transaction.atomic():
        locked = GitIdentity.objects.select_for_update().get(pk=identity.pk)
        if locked.is_confirmed:
            return
        locked.confirmed_by, locked.confirmed_at = actor, timezone.now()
        locked.save(update_fields=["confirmed_by", "confirmed_at"])
        audit_record(
            actor=actor,
            action="identity.confirmed",
            obj=locked,
            payload={"user": locked.user.username, "email": locked.email},
        )
    identity.confirmed_by, identity.confirmed_at = locked.confirmed_by, locked.confirmed_at


def confirmed_emails(user: Any) -> set[str]:
    """The user's confirmed identities, normalised (see `normalise_email`). Uses the
    `confirmed_identities` list `gates.gate_facts` prefetches, when there."""
    identities = getattr(user, "confirmed_identities", None)
    if identities is None:
        identities = GitIdentity.objects.filter(user=user, confirmed_at__isnull=False)
    return {normalise_email(identity.email) for identity in identities}


def github_login_set(*, actor: Any, user: Any, github_login: str) -> GitHubAccount | None:
    """An admin links `user` to a GitHub login (empty: unlinks). Their approving reviews
    may then count as approvals (releases.forge_reviews), under the same rules."""
    _require_user_manager(actor)
    login = github_login.strip().removeprefix("@")
    with transaction.atomic():
        current = GitHubAccount.objects.select_for_update().filter(user=user).first()
        before = current.github_login if current else ""
        if login == before:
            return current
        if not login:
            assert current is not None
            current.delete()
            audit_record(
                actor=actor, action="user.github_unlinked", obj=user, payload={"was": before}
            )
            return None
        taken = GitHubAccount.objects.filter(github_login__iexact=login).exclude(user=user)
        if taken.exists():
            raise ActionRefused(f"@{login} is already linked to another account.")
        account = current or GitHubAccount(user=user)
        account.github_login, account.linked_by = login, actor
        try:
            account.full_clean(exclude=["user", "linked_by"])
        except ValidationError as error:
            raise ActionRefused(" ".join(error.messages)) from None
        account.save()
        audit_record(
            actor=actor,
            action="user.github_linked",
            obj=user,
            payload={"user": user.get_username(), "github_login": login, "was": before},
        )
    return account
