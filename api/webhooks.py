"""POST /hooks/github/<name>/ and /hooks/git/<name>/: a forge says a ref moved.

The signature is checked before anything else (401), with the repository's secret
(`api.signatures.repository_secret`); then the repository (404), the payload's schema
(400), and the delivery id (a replay is answered 200 and ignored). A taken delivery
queues a sync: 202.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from api import hooks, signatures
from api.payloads import GITHUB_SYNC_EVENTS, GitEvent, GitHubPing, GitHubPullRequestReview
from api.problems import problem
from releases.models import Repository


def _secret(name: str) -> str:
    return signatures.repository_secret(settings.EWSDASH_WEBHOOK_KEY.encode(), name)


def _invalid(request: HttpRequest, error: ValidationError) -> HttpResponse:
    errors = [
        dict(e) for e in error.errors(include_url=False, include_context=False, include_input=False)
    ]
    return problem(request, 400, "The payload does not match the event's schema.", errors=errors)


def _taken(accepted: bool) -> HttpResponse:
    if accepted:
        return JsonResponse({"status": "queued", "detail": "A sync is queued."}, status=202)
    return JsonResponse({"status": "duplicate", "detail": "This delivery was taken before."})


def _body(request: HttpRequest) -> bytes | None:
    try:
        return request.body
    except RequestDataTooBig:
        return None


@csrf_exempt
@login_not_required
@require_POST
def github_webhook(request: HttpRequest, name: str) -> HttpResponse:
    body = _body(request)
    if body is None:
        return problem(request, 413, "The payload is too large.")
    header = request.headers.get("X-Hub-Signature-256", "")
    if not signatures.github_verify(_secret(name), body, header):
        return problem(request, 401, "X-Hub-Signature-256 is missing or wrong.")
    repository = Repository.objects.filter(name=name).first()
    if repository is None:
        return problem(request, 404, f"No repository {name!r}.")
    event = request.headers.get("X-GitHub-Event", "")
    delivery = request.headers.get("X-GitHub-Delivery", "").strip()
    if not delivery or len(delivery) > 100:
        return problem(request, 400, "X-GitHub-Delivery is missing.")
    try:
        if event == "ping":
            GitHubPing.model_validate_json(body)
            return JsonResponse({"status": "pong", "detail": "The webhook reaches ewsdash."})
        schema = GITHUB_SYNC_EVENTS.get(event)
        if schema is None:
            return JsonResponse({"status": "ignored", "detail": f"ewsdash ignores {event!r}."})
        payload = schema.model_validate_json(body)
    except ValidationError as error:
        return _invalid(request, error)
    accepted = hooks.webhook_accept(
        source="github",
        delivery_id=delivery,
        repository=repository,
        event=event,
        ref=payload.moved_ref(),
        pull_request=payload.pull_request.number
        if isinstance(payload, GitHubPullRequestReview)
        else None,
    )
    return _taken(accepted)


@csrf_exempt
@login_not_required
@require_POST
def git_webhook(request: HttpRequest, name: str) -> HttpResponse:
    body = _body(request)
    if body is None:
        return problem(request, 413, "The payload is too large.")
    delivery = request.headers.get("X-Ewsdash-Delivery", "").strip()
    valid = signatures.generic_verify(
        _secret(name),
        timestamp=request.headers.get("X-Ewsdash-Timestamp", ""),
        delivery=delivery,
        body=body,
        header=request.headers.get("X-Ewsdash-Signature-256", ""),
        now=time.time(),
        max_age=settings.EWSDASH_WEBHOOK_MAX_AGE,
    )
    if not valid:
        return problem(
            request,
            401,
            "X-Ewsdash-Signature-256 is missing or wrong, or X-Ewsdash-Timestamp is too old.",
        )
    if len(delivery) > 100:
        return problem(request, 400, "X-Ewsdash-Delivery is longer than 100 characters.")
    repository = Repository.objects.filter(name=name).first()
    if repository is None:
        return problem(request, 404, f"No repository {name!r}.")
    try:
        payload = GitEvent.model_validate_json(body)
    except ValidationError as error:
        return _invalid(request, error)
    accepted = hooks.webhook_accept(
        source="git",
        delivery_id=delivery,
        repository=repository,
        event=payload.event,
        ref=payload.ref,
    )
    return _taken(accepted)
