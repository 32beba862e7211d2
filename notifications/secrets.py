"""Webhook secrets at rest: Fernet (AES-128-CBC with an HMAC) under EWSDASH_NOTIFY_SECRET_KEY.

A signing secret must be read back to sign, so it is encrypted, not hashed. The key is any
string: its SHA-256 makes the 32 bytes Fernet wants. The database alone never reveals a
secret; the key lives in the environment (derived from DJANGO_SECRET_KEY by default).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    digest = hashlib.sha256(settings.EWSDASH_NOTIFY_SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    """The secret, or "" when the key changed since it was stored (it cannot sign then)."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""
