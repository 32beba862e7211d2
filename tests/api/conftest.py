"""API clients holding a personal token of each fixed user, and the OpenAPI contract."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from django.test import Client
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from api.endpoints import api
from api.tokens import token_create

_names = itertools.count()


class ApiClient(Client):
    """A client sending a Bearer token; every response it gets is checked against the
    OpenAPI document: its status must be documented for the operation and its body must
    match the documented schema of its content type."""

    def __init__(self, token: str | None = None, **kwargs: Any) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        super().__init__(headers=headers, **kwargs)

    def request(self, **request: Any) -> Any:  # type: ignore[override]
        response = super().request(**request)
        contract_check(response)
        return response

    def post_json(self, path: str, data: dict | None = None, **kwargs: Any) -> Any:
        return self.post(path, json.dumps(data or {}), content_type="application/json", **kwargs)


_DOCUMENT: dict[str, Any] = {}


def document() -> dict[str, Any]:
    if not _DOCUMENT:
        _DOCUMENT.update(json.loads(json.dumps(api.get_openapi_schema(), default=str)))
    return _DOCUMENT


def operation_for(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The document's (template, operation) serving `method path`, or None."""
    for template, methods in document()["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in methods:
            return template, methods[method.lower()]
    return None


def contract_check(response: Any) -> None:
    path, method = response.request["PATH_INFO"], response.request["REQUEST_METHOD"]
    if not path.startswith("/api/v1/") or path.endswith(("/openapi.json", "/docs")):
        return
    found = operation_for(method, path)
    assert found, f"{method} {path} is not in the OpenAPI document"
    template, operation = found
    documented = operation["responses"]
    status = str(response.status_code)
    assert status in documented, f"{method} {template} answered {status}, not documented"
    content_type = response["Content-Type"].split(";")[0]
    content = documented[status].get("content", {})
    assert content_type in content, f"{method} {template} {status}: {content_type} undocumented"
    schema = content[content_type]["schema"]
    registry = Registry().with_resource(
        "urn:ewsdash-api", Resource(contents=document(), specification=DRAFT202012)
    )
    ref = schema["$ref"].replace("#/", "urn:ewsdash-api#/") if "$ref" in schema else None
    validator = Draft202012Validator({"$ref": ref} if ref else schema, registry=registry)
    errors = sorted(validator.iter_errors(response.json()), key=str)
    assert not errors, f"{method} {template} {status}: {errors[0].message}"


@pytest.fixture
def api_client(users):
    """`api_client("rm-ana", "write")`: a client with a fresh token of that user."""

    def make(username: str | None, scope: str = "write") -> ApiClient:
        if username is None:
            return ApiClient()
        token = token_create(user=users[username], name=f"test-{next(_names)}", scope=scope)
        return ApiClient(token)

    return make
