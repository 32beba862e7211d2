"""GitHub's published webhook schemas (npm @octokit/openapi-webhooks, pinned in
tests/package.json, installed by `make test`), and payloads made from them.

`github_payload(event, **overrides)` builds the smallest payload the schema accepts
(every required field, with a plain value of its type), applies the test's overrides
(dotted paths), and validates the result against the schema before the test sends it,
so the suite never posts a payload GitHub could not send.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

PACKAGE = Path(__file__).resolve().parents[1] / "node_modules" / "@octokit" / "openapi-webhooks"
DESCRIPTION = PACKAGE / "generated" / "api.github.com.json"
URN = "urn:github-webhooks"
# GitHub's event (X-GitHub-Event) and action -> the description's webhook key.
WEBHOOK_KEYS = {
    ("push", None): "push",
    ("create", None): "create",
    ("delete", None): "delete",
    ("ping", None): "ping",
    ("pull_request", "synchronize"): "pull-request-synchronize",
    ("pull_request", "opened"): "pull-request-opened",
    ("pull_request_review", "submitted"): "pull-request-review-submitted",
}
FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "uri": "https://github.example/x",
    "uri-template": "https://github.example/x{/y}",
    "email": "someone@example.org",
}


@cache
def description() -> dict[str, Any]:
    if not DESCRIPTION.exists():
        raise RuntimeError(
            f"{DESCRIPTION} is missing: install the test tools with "
            "`npm ci --prefix tests` (make test does)."
        )
    return json.loads(DESCRIPTION.read_text())


@cache
def _registry() -> Registry:
    return Registry().with_resource(
        URN, Resource(contents=description(), specification=DRAFT202012)
    )


def _resolve(schema: dict[str, Any], doc: dict[str, Any] | None = None) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = description() if doc is None else doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def schema_of(event: str, action: str | None = None) -> dict[str, Any]:
    key = WEBHOOK_KEYS[(event, action)]
    body = description()["webhooks"][key]["post"]["requestBody"]["content"]["application/json"]
    return body["schema"]


def validator(event: str, action: str | None = None) -> Draft202012Validator:
    ref = schema_of(event, action)["$ref"].replace("#/", f"{URN}#/")
    return Draft202012Validator({"$ref": ref}, registry=_registry())


def minimal(schema: dict[str, Any], depth: int = 0, doc: dict[str, Any] | None = None) -> Any:
    """The smallest instance of `schema`: required properties only, first choices.
    `$ref`s resolve in `doc` (default: the webhook description)."""
    schema = _resolve(schema, doc)
    if depth > 40:
        raise RecursionError("schema too deep")
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return next((v for v in schema["enum"] if v is not None), schema["enum"][0])
    for key in ("allOf",):
        if key in schema:
            merged: dict[str, Any] = {}
            for part in schema[key]:
                value = minimal(part, depth + 1, doc)
                if isinstance(value, dict):
                    merged.update(value)
            return merged
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [_resolve(o, doc) for o in schema[key]]
            # Prefer an object branch (it carries the fields a test may override).
            options.sort(key=lambda o: 0 if o.get("type") == "object" else 1)
            return minimal(options[0], depth + 1, doc)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            name: minimal(properties.get(name, {}), depth + 1, doc)
            for name in schema.get("required", [])
        }
    if kind == "array":
        return [minimal(schema["items"], depth + 1, doc) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return FORMATS.get(schema.get("format", ""), "x")
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    return None


def github_payload(event: str, action: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A payload valid against GitHub's schema for the event, with `overrides` applied
    (`pull_request__head__sha="…"` sets payload["pull_request"]["head"]["sha"])."""
    payload = copy.deepcopy(minimal(schema_of(event, action)))
    if action is not None:
        payload["action"] = action
    for dotted, value in overrides.items():
        *parents, leaf = dotted.split("__")
        node = payload
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = value
    errors = sorted(validator(event, action).iter_errors(payload), key=str)
    assert not errors, f"{event}: {errors[0].message} at {list(errors[0].absolute_path)}"
    return payload
