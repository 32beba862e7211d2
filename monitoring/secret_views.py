"""The repository's Secrets page (issue 17): admins set and delete its checks' secrets.

Write-only: the page lists names and who set them when, never a value; a value is typed
into the form and from then on exists only encrypted (monitoring.check_secrets).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from monitoring import check_secrets
from monitoring.models import RepositorySecret
from releases.access import access_repository
from releases.promotion_views import refusals_as_messages


@require_safe
def repository_secrets(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name, action="change_repository")
    return render(
        request,
        "monitoring/secrets.html",
        {
            "repository": repository,
            "secrets": check_secrets.secrets_of(repository=repository),
            "configured": check_secrets.secrets_configured(),
        },
    )


@require_POST
@refusals_as_messages
def repository_secret_set(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name, action="change_repository")
    secret = check_secrets.secret_set(
        repository=repository,
        name=request.POST.get("name", ""),
        value=request.POST.get("value", ""),
        actor=request.user,
    )
    messages.success(request, f"Secret {secret.name} saved; its value is not shown again.")
    return redirect("repository_secrets", name=name)


@require_POST
@refusals_as_messages
def repository_secret_delete(request: HttpRequest, name: str, pk: int) -> HttpResponse:
    repository = access_repository(request, name, action="change_repository")
    secret = get_object_or_404(RepositorySecret, repository=repository, pk=pk)
    check_secrets.secret_delete(secret=secret, actor=request.user)
    messages.success(request, f"Secret {secret.name} deleted.")
    return redirect("repository_secrets", name=name)
