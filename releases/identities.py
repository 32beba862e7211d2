"""People: deactivation instead of deletion (their decisions and audit events name them)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from releases.audit import audit_record
from releases.errors import ActionRefused


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
