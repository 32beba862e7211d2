"""Changes to channels, audited like every other change (the URL, a secret, is not logged)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from notifications.models import Channel
from releases.audit import audit_record


def channel_save(*, channel: Channel, actor: Any, created: bool) -> Channel:
    with transaction.atomic():
        channel.full_clean()
        channel.save()
        audit_record(
            actor=actor,
            action="channel.created" if created else "channel.changed",
            obj=channel,
            repository=channel.repository,
            payload={"events": channel.events, "enabled": channel.enabled},
        )
    return channel


def channel_delete(*, channel: Channel, actor: Any) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="channel.deleted",
            obj=channel,
            repository=channel.repository,
        )
        channel.delete()
