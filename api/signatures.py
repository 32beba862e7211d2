"""Webhook signatures (no Django import): GitHub's and the generic one's.

GitHub signs the raw body: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`.
The generic hook also signs when and which delivery, so a captured request cannot be
replayed later or under another id:
`X-Ewsdash-Signature-256: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<delivery>." + body)>`
with `X-Ewsdash-Timestamp` (Unix seconds) and `X-Ewsdash-Delivery` (unique per delivery).
"""

from __future__ import annotations

import hashlib
import hmac


def repository_secret(key: bytes, repository: str) -> str:
    """The webhook secret of one repository, derived from the site's webhook key.

    Each repository gets its own secret (one leaked secret forges no other repository's
    hooks) and nothing is stored: `manage.py webhook secret NAME` prints it for the
    forge's settings.
    """
    return hmac.new(key, f"webhook:{repository}".encode(), hashlib.sha256).hexdigest()


def _hex(secret: str, message: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def github_signature(secret: str, body: bytes) -> str:
    return _hex(secret, body)


def github_verify(secret: str, body: bytes, header: str) -> bool:
    return bool(header) and hmac.compare_digest(github_signature(secret, body), header.strip())


def generic_signature(secret: str, *, timestamp: str, delivery: str, body: bytes) -> str:
    return _hex(secret, f"{timestamp}.{delivery}.".encode() + body)


def generic_verify(
    secret: str,
    *,
    timestamp: str,
    delivery: str,
    body: bytes,
    header: str,
    now: float,
    max_age: int,
) -> bool:
    """Valid signature, and signed within `max_age` seconds of `now` (either side)."""
    try:
        signed_at = int(timestamp)
    except ValueError:
        return False
    if abs(now - signed_at) > max_age or not header or not delivery:
        return False
    expected = generic_signature(secret, timestamp=timestamp, delivery=delivery, body=body)
    return hmac.compare_digest(expected, header.strip())
