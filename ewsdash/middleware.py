"""Requests no page could answer sensibly are refused with 400 before any view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

# A NUL byte in a query string reaches PostgreSQL as a text parameter, which it refuses
# with an error (a 500); no page has a use for control characters in a query.
_CONTROL = {chr(code) for code in range(32)} - {"\t", "\n", "\r"}


def _has_control_characters(text: str) -> bool:
    return any(char in _CONTROL for char in text)


class HostileQueryMiddleware:
    """400 for a path or query string with control characters (a NUL byte, say)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_control_characters(request.path) or any(
            _has_control_characters(key) or _has_control_characters(value)
            for key, values in request.GET.lists()
            for value in values
        ):
            return HttpResponseBadRequest(
                "The address contains control characters.", content_type="text/plain"
            )
        return self.get_response(request)
