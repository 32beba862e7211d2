"""/api/v1/ (the REST API), /hooks/ (webhooks in) and /account/tokens/ (your tokens).

Neither uses the session: the API authenticates Bearer tokens and the hooks verify
signatures, so both are exempt from the site's sign-in redirect (and from CSRF: no
cookie authenticates them). The token pages are ordinary signed-in pages.
"""

from django.urls import URLPattern, URLResolver, include, path

from api import views, webhooks
from api.endpoints import api


def _no_sign_in_redirect(entries: list[URLPattern | URLResolver]) -> None:
    for entry in entries:
        if isinstance(entry, URLPattern):
            entry.callback.login_required = False  # type: ignore[attr-defined]


api_patterns, api_app, api_namespace = api.urls
_no_sign_in_redirect(api_patterns)  # type: ignore[arg-type]

urlpatterns = [
    path("api/v1/", include((api_patterns, api_app), namespace=api_namespace)),
    path("hooks/github/<slug:name>/", webhooks.github_webhook, name="github_webhook"),
    path("hooks/git/<slug:name>/", webhooks.git_webhook, name="git_webhook"),
    path("account/tokens/", views.api_token_list, name="api_token_list"),
    path("account/tokens/new/", views.api_token_create, name="api_token_create"),
    path("account/tokens/<int:pk>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    # Last: what no API route took.
    path("api/<path:rest>", views.api_not_found, name="api_not_found"),
]
