"""Freeze windows: periods in which promotions are refused (an admin may break the glass)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from releases.access import require_permission
from releases.audit import audit_record
from releases.errors import ActionRefused
from releases.models import FreezeWindow, Repository


def freeze_create(
    *, repository: Repository, actor: Any, starts_at: datetime, ends_at: datetime, reason: str
) -> FreezeWindow:
    require_permission(actor, "manage_freeze")
    if not reason.strip():
        raise ActionRefused("A freeze needs a reason.")
    if ends_at <= starts_at:
        raise ActionRefused("A freeze must end after it starts.")
    if ends_at <= timezone.now():
        raise ActionRefused("That freeze would already be over.")
    with transaction.atomic():
        window = FreezeWindow.objects.create(
            repository=repository,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason.strip(),
            created_by=actor,
        )
        audit_record(
            actor=actor,
            action="freeze.created",
            obj=window,
            repository=repository,
            payload={
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(),
                "reason": reason.strip(),
            },
        )
    return window


def freeze_end(*, window: FreezeWindow, actor: Any) -> None:
    """End a freeze now (the row stays, with its end moved to now)."""
    require_permission(actor, "manage_freeze")
    with transaction.atomic():
        window = FreezeWindow.objects.select_for_update().get(pk=window.pk)
        now = timezone.now()
        if window.ends_at <= now:
            raise ActionRefused("That freeze is already over.")
        window.ends_at = now
        if window.starts_at >= now:
            # Ended before it began: keep the row (and its reason) as a zero-length window.
            window.starts_at = now - timedelta(microseconds=1)
        window.save(update_fields=["starts_at", "ends_at"])
        audit_record(
            actor=actor,
            action="freeze.ended",
            obj=window,
            repository=window.repository,
            payload={"ended_at": now.isoformat()},
        )
