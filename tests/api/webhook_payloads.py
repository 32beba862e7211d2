"""Webhook payloads as GitHub sends them (built from, and validated against, GitHub's
published schemas: tests/api/github_schemas.py), and signed requests for both hooks."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from django.conf import settings
from django.test import Client

from api.signatures import generic_signature, github_signature, repository_secret
from tests.api.github_schemas import github_payload

SHA_A = "a" * 40
SHA_B = "b" * 40


def secret(name: str = "pipeline") -> str:
    return repository_secret(settings.EWSDASH_WEBHOOK_KEY.encode(), name)


def push(ref: str = "refs/heads/development", after: str = SHA_B) -> dict[str, Any]:
    return github_payload("push", ref=ref, before=SHA_A, after=after)


def ref_change(ref: str = "hotfix/1.0.1", ref_type: str = "branch") -> dict[str, Any]:
    return github_payload("create", ref=ref, ref_type=ref_type)


def ref_delete(ref: str = "v1.0.0", ref_type: str = "tag") -> dict[str, Any]:
    return github_payload("delete", ref=ref, ref_type=ref_type)


def pull_request(action: str = "synchronize") -> dict[str, Any]:
    return github_payload(
        "pull_request",
        action,
        number=7,
        pull_request__number=7,
        pull_request__head__ref="ewsdash/candidate-1",
        pull_request__head__sha=SHA_B,
        pull_request__base__ref="production",
        pull_request__base__sha=SHA_A,
    )


def pull_request_review(
    *, number: int = 7, login: str = "ben-gh", commit: str = SHA_B, state: str = "approved"
) -> dict[str, Any]:
    """GitHub's `pull_request_review` (submitted): `login` reviewed pull request `number`."""
    return github_payload(
        "pull_request_review",
        "submitted",
        pull_request__number=number,
        pull_request__head__ref=f"ewsdash/candidate-{number}",
        pull_request__head__sha=commit,
        pull_request__base__ref="production",
        pull_request__base__sha=SHA_A,
        review__id=4242,
        review__state=state,
        review__commit_id=commit,
        review__user__login=login,
    )


def ping() -> dict[str, Any]:
    return github_payload("ping", zen="Keep it logically awesome.", hook_id=42)


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
