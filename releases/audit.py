"""The hash-chained audit log.

Every service writes its event with `audit_record` inside the transaction that
makes the change, so an event exists exactly when its change does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.dispatch import Signal
from django.utils import timezone

from releases.models import AuditEvent

GENESIS_HASH = "0" * 64
# Sent with `event=` right after each event is written, inside the change's transaction:
# the notifications outbox listens, so its rows commit or roll back with the event.
audit_recorded = Signal()
# Any constant works; it only has to be the same for every writer.
AUDIT_LOCK_KEY = 0x657773_617564  # "ews" "aud"


def canonical_json(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "created_at": event.created_at.isoformat(timespec="microseconds"),
        "actor": event.actor_name,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "repository": event.repository_name,
        "payload": event.payload,
        "prev_hash": event.prev_hash,
    }


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_json(event_fields(event)).encode()).hexdigest()


# Through what a change came when it was not a page (e.g. "api token ci-bot"): every event
# written while it is set says so in its payload's "via".
_VIA: ContextVar[str] = ContextVar("audit_via", default="")


@contextmanager
def audit_via(label: str) -> Iterator[None]:
    """Mark every audit event written inside the block as coming through `label`."""
    reset = _VIA.set(label)
    try:
        yield
    finally:
        _VIA.reset(reset)


def _lock_chain_head() -> None:
    """Serialise writers so two events never chain to the same predecessor.

    PostgreSQL: a transaction-scoped advisory lock. SQLite runs write
    transactions one at a time (IMMEDIATE mode), which gives the same guarantee.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_LOCK_KEY])


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: Model | None = None,
    repository: Any = None,
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. The caller must be inside the transaction of the change."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change")
    _lock_chain_head()
    if _VIA.get():
        payload = {**(payload or {}), "via": _VIA.get()}
    last = AuditEvent.objects.order_by("-seq").only("seq", "hash").first()
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    event = AuditEvent(
        seq=(last.seq + 1) if last else 1,
        created_at=timezone.now(),
        actor=actor if authenticated else None,
        actor_name=actor.get_username() if authenticated else (actor or "system"),
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        repository_name=getattr(repository, "name", repository or ""),
        payload=json.loads(json.dumps(payload or {}, default=str)),
        prev_hash=last.hash if last else GENESIS_HASH,
    )
    event.hash = event_hash(event)
    event.save()
    audit_recorded.send(sender=AuditEvent, event=event)
    return event


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    checked: int
    message: str
    bad_seq: int | None = None


def audit_verify(*, batch: int = 2000) -> ChainVerdict:
    """Walk the chain in order; name the first event whose hash or link is wrong."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    with transaction.atomic():
        events = AuditEvent.objects.order_by("seq").iterator(chunk_size=batch)
        for event in events:
            if event.seq != expected_seq:
                return ChainVerdict(
                    False,
                    checked,
                    f"event #{event.seq}: expected sequence #{expected_seq}",
                    event.seq,
                )
            if event.prev_hash != expected_prev:
                return ChainVerdict(
                    False,
                    checked,
                    f"event #{event.seq}: previous hash does not match event #{event.seq - 1}",
                    event.seq,
                )
            if event_hash(event) != event.hash:
                return ChainVerdict(
                    False,
                    checked,
                    f"event #{event.seq} ({event.action}): content does not match its hash",
                    event.seq,
                )
            expected_prev = event.hash
            expected_seq += 1
            checked += 1
    return ChainVerdict(True, checked, f"audit chain intact: {checked} events verified")
