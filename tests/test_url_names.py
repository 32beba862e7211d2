"""A URL's name is its view's name, so a reader finds one from the other."""

from django.urls import URLPattern, URLResolver, get_resolver

# Django's own views keep Django's names.
FOREIGN = {"login", "logout"}


def patterns(resolver: URLResolver | None = None, prefix: str = ""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            # The admin's URLs are Django's; the API's are django-ninja's, one view per
            # path serving every method, each operation named (operationId) after its
            # function: tests/api/test_api_schema.py checks those names.
            if entry.app_name == "admin" or entry.namespace == "api":
                continue
            yield from patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def test_every_url_name_is_its_view_functions_name():
    mismatched = [
        (route, entry.name, entry.callback.__name__)
        for route, entry in patterns()
        if entry.name not in FOREIGN and entry.name != entry.callback.__name__
    ]
    assert mismatched == []


def test_every_view_is_a_distinct_function():
    seen: dict[str, str] = {}
    for route, entry in patterns():
        if entry.name in FOREIGN:
            continue
        key = f"{entry.callback.__module__}.{entry.callback.__qualname__}"
        assert key not in seen, f"{route} and {seen[key]} resolve to the same view {key}"
        seen[key] = route
