"""Personal API tokens: create (the plain token is returned once), revoke, authenticate.

A token is `ews_<prefix>_<secret>`: the prefix finds the row, the SHA-256 digest of the
whole token is compared in constant time. Tokens carry 190 bits of randomness, so a
fast hash is enough (a slow password hash protects guessable secrets, not these).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from api.models import ApiToken, TokenScope
from releases.audit import audit_record
from releases.errors import ActionRefused

TOKEN_PREFIX = "ews"
# A token's last use is written at most this often, so reading costs no write each time.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_create(*, user: Any, name: str, scope: str = TokenScope.READ, actor: Any = None) -> str:
    """Make a token for `user` and return it in plain text (the only time it exists so).

    `actor` is who asked (the user themself on their page, or a command's operator).
    """
    name = name.strip()
    if not name:
        raise ActionRefused("A token needs a name.")
    if scope not in TokenScope.values:
        raise ActionRefused(f"A token's scope is read, write or report, not {scope!r}.")
    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(24)}"
    try:
        with transaction.atomic():
            row = ApiToken.objects.create(
                user=user, name=name, prefix=prefix, digest=_digest(token), scope=scope
            )
            audit_record(
                actor=actor or user,
                action="token.created",
                obj=row,
                payload={"user": user.get_username(), "name": name, "scope": scope},
            )
    except IntegrityError:
        raise ActionRefused(
            f"{user.get_username()} already has a live token named {name!r}."
        ) from None
    return token


def token_revoke(*, token: ApiToken, actor: Any) -> None:
    """End a token now; requests carrying it get 401 from here on."""
    with transaction.atomic():
        row = ApiToken.objects.select_for_update().get(pk=token.pk)
        if row.revoked_at is not None:
            raise ActionRefused(f"Token {row.name!r} is already revoked.")
        row.revoked_at = timezone.now()
        row.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="token.revoked",
            obj=row,
            payload={"user": row.user.get_username(), "name": row.name},
        )


def token_authenticate(raw: str) -> ApiToken | None:
    """The live token `raw` names, with its user loaded, or None (one query, and a write
    at most once a minute for its last use)."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    row = (
        ApiToken.objects.select_related("user")
        .filter(prefix=parts[1], revoked_at__isnull=True)
        .first()
    )
    if row is None or not hmac.compare_digest(row.digest, _digest(raw.strip())):
        return None
    if not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        row.last_used_at = now
    return row


def tokens_of(*, user: Any) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at"))
