"""Credentials in origin URLs: kept where git needs them (the repository row, the cache
clone's config), replaced by `***` everywhere a person or a log could read them."""

from __future__ import annotations

import re

# scheme://userinfo@ — userinfo up to the first "@" that precedes the host.
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s'\"]+)@")


def _redacted_userinfo(match: re.Match[str]) -> str:
    scheme, userinfo = match["scheme"], match["userinfo"]
    user, has_password, _ = userinfo.partition(":")
    if has_password:
        return f"{scheme}{user}:***@"
    # A bare user name is a secret over HTTP(S) (tokens are sent as the user name) and
    # only an account name over SSH (git@host).
    if scheme.lower().startswith("http"):
        return f"{scheme}***@"
    return match[0]


def redact_credentials(text: str) -> str:
    """`text` with the password (or HTTP user token) of every URL in it replaced."""
    return _USERINFO.sub(_redacted_userinfo, text)
