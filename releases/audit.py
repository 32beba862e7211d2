"""The hash-chained audit log, anchored outside the database.

Every service writes its event with `audit_record` inside the transaction that
makes the change, so an event exists exactly when its change does.

The chain alone proves nothing to someone who can write the table: they can edit an
event and re-hash every later one, or delete the newest. Two anchors the database does
not hold close that:

- each event carries a MAC (HMAC-SHA256 of "seq:hash") under `EWSDASH_AUDIT_KEY`, a key
  only the application's processes know: a re-hashed chain has no valid MACs;
- once its transaction commits, each event's seq, hash and MAC are appended to the anchor
  file (`EWSDASH_AUDIT_ANCHOR_FILE`, outside the database): an event deleted, edited or
  replaced after it was anchored no longer matches, and the newest anchored event must
  still be there.

`audit_verify` checks the chain, every MAC and every anchor.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
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


def event_mac(seq: int, hash_: str) -> str:
    """The event's MAC under the audit key (which the database never holds)."""
    key = settings.EWSDASH_AUDIT_KEY.encode()
    return hmac.new(key, f"{seq}:{hash_}".encode(), hashlib.sha256).hexdigest()


def _anchor(seq: int, hash_: str, mac: str) -> None:
    """Append one committed event's anchor line (locked, flushed to disk)."""
    path = Path(settings.EWSDASH_AUDIT_ANCHOR_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"seq": seq, "hash": hash_, "mac": mac}, separators=(",", ":")) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


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
    event.mac = event_mac(event.seq, event.hash)
    event.save()
    seq, hash_, mac = event.seq, event.hash, event.mac
    transaction.on_commit(lambda: _anchor(seq, hash_, mac))
    audit_recorded.send(sender=AuditEvent, event=event)
    return event


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    checked: int
    message: str
    bad_seq: int | None = None
    anchors: int = 0


def _broken(checked: int, message: str, seq: int | None) -> ChainVerdict:
    return ChainVerdict(False, checked, message, seq)


def _read_anchors() -> tuple[dict[int, tuple[str, str]], str | None]:
    """seq -> (hash, mac) from the anchor file, or the reason it cannot be trusted."""
    path = Path(settings.EWSDASH_AUDIT_ANCHOR_FILE)
    anchors: dict[int, tuple[str, str]] = {}
    if not path.exists():
        return anchors, None
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        try:
            entry = json.loads(line)
            seq, hash_, mac = int(entry["seq"]), str(entry["hash"]), str(entry["mac"])
        except (ValueError, KeyError, TypeError):
            return anchors, f"anchor file line {number} is not an anchor"
        if not hmac.compare_digest(mac, event_mac(seq, hash_)):
            return anchors, f"anchor file line {number} (event #{seq}) has a wrong MAC"
        anchors[seq] = (hash_, mac)
    return anchors, None


def audit_verify(*, batch: int = 2000) -> ChainVerdict:
    """Walk the chain in order; name the first event whose hash, link, MAC or anchor is
    wrong, and notice newest events missing from the database."""
    anchors, anchor_problem = _read_anchors()
    if anchor_problem:
        return _broken(0, anchor_problem, None)
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    keyed = False
    with transaction.atomic():
        events = AuditEvent.objects.order_by("seq").iterator(chunk_size=batch)
        for event in events:
            seq = event.seq
            if seq != expected_seq:
                return _broken(checked, f"event #{seq}: expected sequence #{expected_seq}", seq)
            if event.prev_hash != expected_prev:
                return _broken(
                    checked, f"event #{seq}: previous hash does not match event #{seq - 1}", seq
                )
            if event_hash(event) != event.hash:
                return _broken(
                    checked, f"event #{seq} ({event.action}): content does not match its hash", seq
                )
            if event.mac or keyed:
                keyed = True
                if not hmac.compare_digest(event.mac, event_mac(seq, event.hash)):
                    return _broken(
                        checked,
                        f"event #{seq} ({event.action}): its MAC is wrong (re-hashed or "
                        "written without the audit key)",
                        seq,
                    )
            anchored = anchors.get(seq)
            if anchored is not None and anchored[0] != event.hash:
                return _broken(
                    checked, f"event #{seq} ({event.action}): differs from its anchor", seq
                )
            expected_prev = event.hash
            expected_seq += 1
            checked += 1
    newest_anchored = max(anchors, default=0)
    if newest_anchored > checked:
        return _broken(
            checked,
            f"events #{checked + 1}–#{newest_anchored} are anchored but missing from the "
            "database (the newest events were deleted)",
            checked + 1,
        )
    return ChainVerdict(
        True,
        checked,
        f"audit chain intact: {checked} events verified, {len(anchors)} anchored outside "
        "the database",
        anchors=len(anchors),
    )
