from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from ewsdash.roles import role_of
from monitoring.sandboxing import sandbox_warning
from releases.access import repositories_with_freeze
from releases.incidents import incidents_open


def dashboard(request: HttpRequest) -> dict[str, Any]:
    """The signed-in user's role, and the repository the navigation points at (with its
    active freeze for the banner): the one the view already fetched, else the first; on
    every page, the warning that checks run without a sandbox, when they do; and every open
    incident, for the banner on every page. The sign-in page offers single sign-on when
    an identity provider is configured (`sso_name`)."""
    warning = {
        "sandbox_warning": sandbox_warning(),
        "sso_name": settings.EWSDASH_OIDC_NAME if settings.EWSDASH_OIDC_ISSUER else "",
    }
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return warning
    current = getattr(request, "ews_repository", None)
    if current is None:
        name = request.GET.get("repository")
        repositories = repositories_with_freeze().only("name")
        current = (
            repositories.filter(name=name).first()
            if name
            else repositories.order_by("name").first()
        )
    return {
        **warning,
        "user_role": role_of(user),
        "nav_repository": current,
        # Every page shows what moved at an origin without ewsdash (one query).
        "open_incidents": incidents_open(),
    }
