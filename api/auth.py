"""Bearer tokens for the API: who is asking, and may this token write?

The token's user becomes `request.user`, so the pages' access helper
(`releases.access.access_repository`) and the services judge the API's requests by
the same roles. A `read` token is refused (403) on every method that is not a read; a
`report` token (issue 17) everywhere but on the one operation that takes `ReportToken`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja.security import HttpBearer

from api.models import ApiToken
from api.tokens import token_authenticate
from releases.audit import audit_via

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        row = token_authenticate(token)
        if row is None:
            return None
        if row.may_report:
            raise PermissionDenied(
                "This token may only report external checks' results "
                "(POST …/validation-runs/<id>/checks/<check>/result)."
            )
        if request.method not in SAFE_METHODS and not row.may_write:
            raise PermissionDenied("This token may only read; make a write token to act.")
        request.user = row.user
        return row


class ReportToken(HttpBearer):
    """Only a `report` token: the one scope that may report an external check's result."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        row = token_authenticate(token)
        if row is None:
            return None
        if not row.may_report:
            raise PermissionDenied(
                f"Reporting a check's result needs a token with the report scope; this one "
                f"is a {row.scope} token."
            )
        request.user = row.user
        return row


@contextmanager
def acting(request: HttpRequest) -> Iterator[Any]:
    """The token's user, with every audit event written meanwhile marked as the API's."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    with audit_via(f"api token {token.name}"):
        yield request.user
