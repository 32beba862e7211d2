"""The signed-in user's own API tokens (list, create: shown once, revoke); the API's 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from api.models import ApiToken, TokenScope
from api.problems import problem
from api.tokens import token_create, token_revoke, tokens_of
from releases.access import require_reader
from releases.errors import ActionRefused


def _page(request: HttpRequest, *, new_token: str = "", status: int = 200) -> HttpResponse:
    context = {
        "tokens": tokens_of(user=request.user),
        "scopes": TokenScope.choices,
        "new_token": new_token,
        "may_write": request.user.has_perm("releases.create_candidate")
        or request.user.has_perm("releases.start_drift_job"),
    }
    return render(request, "api/tokens.html", context, status=status)


@require_safe
def api_token_list(request: HttpRequest) -> HttpResponse:
    require_reader(request)
    return _page(request)


@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    """Answers with the page itself, the new token on it: it is never stored in clear,
    not even in the session for a redirect."""
    require_reader(request)
    try:
        token = token_create(
            user=request.user,
            name=request.POST.get("name", ""),
            scope=request.POST.get("scope", TokenScope.READ),
        )
    except ActionRefused as error:
        messages.error(request, str(error))
        return _page(request, status=400)
    return _page(request, new_token=token)


@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    require_reader(request)
    token = get_object_or_404(ApiToken, user=request.user, pk=pk)
    try:
        token_revoke(token=token, actor=request.user)
        messages.success(request, f"Token {token.name!r} revoked.")
    except ActionRefused as error:
        messages.error(request, str(error))
    return redirect("api_token_list")


@csrf_exempt
@login_not_required
def api_not_found(request: HttpRequest, rest: str) -> HttpResponse:
    """Any other path under /api/: a problem, like every API error, not the HTML 404 page."""
    return problem(request, 404, "No such API path; see /api/v1/docs.")
