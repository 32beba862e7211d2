"""Outgoing webhooks: the JSON payload of an event, its signature, and the POST.

The body is built once, when the outbox row is written, and kept on the row: every retry
and every redelivery sends the same bytes under the same delivery id, so a receiver can
check the signature and drop a message it already has. Schema: notifications/
webhook-payload.schema.json (README, "Outgoing webhooks").
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import requests
from django.conf import settings

from notifications.catalogue import CatalogueEvent, message_for, object_url
from notifications.models import Delivery
from notifications.secrets import secret_decrypt
from releases.models import AuditEvent

SCHEMA_VERSION = 1
SIGNATURE_HEADER = "X-Ewsdash-Signature-256"
DELIVERY_HEADER = "X-Ewsdash-Delivery"
EVENT_HEADER = "X-Ewsdash-Event"


def webhook_payload(event: AuditEvent, entry: CatalogueEvent) -> str:
    """The JSON text a webhook receives for `event` (sorted keys, compact)."""
    title, _ = message_for(event, entry)
    payload: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "event": entry.key,
        "action": event.action,
        "title": title,
        "todo": entry.todo,
        "audience": entry.audience,
        "repository": event.repository_name or None,
        "object": {
            "type": event.object_type or None,
            "id": event.object_id or None,
            "name": event.object_repr or None,
            "url": object_url(event),
        },
        "actor": event.actor_name,
        "reason": (event.payload or {}).get("reason") or None,
        "audit": {"seq": event.seq, "hash": event.hash, "at": event.created_at.isoformat()},
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def signature(secret: str, body: bytes) -> str:
    """The value of X-Ewsdash-Signature-256: "sha256=" and the HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_send(delivery: Delivery) -> str:
    """POST the delivery's body to its webhook: "" when a 2xx came back, else why not."""
    webhook = delivery.webhook
    assert webhook is not None
    secret = secret_decrypt(webhook.secret_encrypted)
    if not secret:
        return "its secret cannot be read (EWSDASH_NOTIFY_SECRET_KEY changed): set it again"
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "ewsdash-webhook/1",
        SIGNATURE_HEADER: signature(secret, body),
        DELIVERY_HEADER: str(delivery.pk),
        EVENT_HEADER: delivery.event_key,
    }
    try:
        response = requests.post(
            webhook.url,
            data=body,
            headers=headers,
            timeout=settings.EWSDASH_OUTGOING_WEBHOOK_TIMEOUT,
            allow_redirects=False,
        )
    except requests.RequestException as error:
        return f"{type(error).__name__}: {error}"[:2000]
    if 200 <= response.status_code < 300:
        return ""
    return f"HTTP {response.status_code}: {response.text[:500]}"
