"""Errors as `application/problem+json` (RFC 9457): one shape for every refusal.

| status | when |
| --- | --- |
| 400 | the request's body or query does not match the schema |
| 401 | no token, an unknown or revoked one |
| 403 | the token's user lacks the role, or a read token tried to write |
| 404 | no such repository, candidate, run, job or route |
| 409 | the action is refused in the object's current state (the pages' refusal message) |
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Schema

PROBLEM_TYPE = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
}


class Problem(Schema):
    """An RFC 9457 problem detail."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


def problem(
    request: HttpRequest, status: int, detail: str, *, errors: list[dict[str, Any]] | None = None
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors is not None:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body, default=str), status=status, content_type=PROBLEM_TYPE)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="ewsdash"'
    return response


# What every operation may answer besides its success, for the OpenAPI document.
READ_ERRORS: dict[int, Any] = {400: Problem, 401: Problem, 403: Problem, 404: Problem}
WRITE_ERRORS: dict[int, Any] = {**READ_ERRORS, 409: Problem}
