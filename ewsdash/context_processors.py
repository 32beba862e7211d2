from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from ewsdash.roles import role_of
from releases.models import Repository


def dashboard(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's role and the repository the navigation points at."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    match = request.resolver_match
    name = match.kwargs.get("name") if match else None
    if name is None:
        name = request.GET.get("repository") or None
    current = (
        Repository.objects.filter(name=name).only("name").first()
        if name
        else Repository.objects.only("name").order_by("name").first()
    )
    return {"user_role": role_of(user), "nav_repository": current}
