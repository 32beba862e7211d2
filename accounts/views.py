"""The two addresses of single sign-on; both answer 404 while it is not configured."""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from accounts.oidc import ProviderUnavailable, SignInCallback, SignInStart

log = logging.getLogger(__name__)
UNAVAILABLE = "The identity provider cannot be reached just now. Try again in a moment."

_start = SignInStart.as_view()
_callback = SignInCallback.as_view()


def _provider_trouble(request: HttpRequest, error: Exception) -> HttpResponse:
    log.warning("single sign-on: the identity provider failed: %s", error)
    messages.error(request, UNAVAILABLE)
    return redirect("login")


@login_not_required
@require_GET
def oidc_authenticate(request: HttpRequest) -> HttpResponse:
    """Off to the identity provider (a link on the sign-in page; `?next=` is kept)."""
    if not settings.EWSDASH_OIDC_ISSUER:
        raise Http404("Single sign-on is not configured.")
    try:
        return _start(request)
    except ProviderUnavailable as error:
        return _provider_trouble(request, error)


@login_not_required
@require_GET
def oidc_callback(request: HttpRequest) -> HttpResponse:
    """Back from the identity provider: signed in, or told why not on the sign-in page."""
    if not settings.EWSDASH_OIDC_ISSUER:
        raise Http404("Single sign-on is not configured.")
    try:
        return _callback(request)
    except (ProviderUnavailable, requests.RequestException) as error:
        return _provider_trouble(request, error)
