"""Every URL pattern the resolver knows, for the tests that must cover each one."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

# The admin site keeps its own permissions (tests/test_view_permissions.py checks that
# only admins get in); its dozens of generated URLs are not ours to list.
SKIPPED_APPS = {"admin"}
# The API's operations are django-ninja's, one view per path serving every method, each
# named (operationId) after its function; tests/api/ checks them from the OpenAPI document.
SKIPPED_NAMESPACES = {"api"}


def url_patterns(
    resolver: URLResolver | None = None, prefix: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    """(route, pattern) for every URL of ours, routes written as in urls.py."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name in SKIPPED_APPS or entry.namespace in SKIPPED_NAMESPACES:
                continue
            yield from url_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry
