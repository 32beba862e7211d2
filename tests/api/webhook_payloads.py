"""Webhook payloads as GitHub sends them (trimmed to the required fields of
@octokit/openapi-webhooks' schemas), and signed requests for both hooks."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from django.conf import settings
from django.test import Client

from api.signatures import generic_signature, github_signature, repository_secret

SHA_A = "a" * 40
SHA_B = "b" * 40


def secret(name: str = "pipeline") -> str:
    return repository_secret(settings.EWSDASH_WEBHOOK_KEY.encode(), name)


def repository_field() -> dict[str, Any]:
    return {"id": 1, "name": "pipeline", "full_name": "views/pipeline", "default_branch": "main"}


def push(ref: str = "refs/heads/development", after: str = SHA_B) -> dict[str, Any]:
    return {
        "ref": ref,
        "before": SHA_A,
        "after": after,
        "created": False,
        "deleted": False,
        "forced": False,
        "commits": [],
        "repository": repository_field(),
    }


def ref_change(ref: str = "hotfix/1.0.1", ref_type: str = "branch") -> dict[str, Any]:
    return {"ref": ref, "ref_type": ref_type, "repository": repository_field()}


def pull_request(action: str = "synchronize") -> dict[str, Any]:
    return {
        "action": action,
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"ref": "ewsdash/candidate-1", "sha": SHA_B},
            "base": {"ref": "production", "sha": SHA_A},
            "merged": False,
        },
        "repository": repository_field(),
    }


def ping() -> dict[str, Any]:
    return {"zen": "Keep it logically awesome.", "hook_id": 42}


def post_github(
    client: Client,
    event: str,
    payload: dict[str, Any] | bytes,
    *,
    name: str = "pipeline",
    delivery: str | None = None,
    signature: str | None = None,
) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature
        if signature is not None
        else github_signature(secret(name), body),
    }
    return client.post(
        f"/hooks/github/{name}/", body, content_type="application/json", headers=headers
    )


def post_git(
    client: Client,
    payload: dict[str, Any] | bytes,
    *,
    name: str = "pipeline",
    delivery: str | None = None,
    timestamp: int | None = None,
    signature: str | None = None,
) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    delivery = delivery or str(uuid.uuid4())
    headers = {
        "X-Ewsdash-Delivery": delivery,
        "X-Ewsdash-Timestamp": stamp,
        "X-Ewsdash-Signature-256": signature
        if signature is not None
        else generic_signature(secret(name), timestamp=stamp, delivery=delivery, body=body),
    }
    return client.post(
        f"/hooks/git/{name}/", body, content_type="application/json", headers=headers
    )
