"""A URL's name is its view's name, so a reader finds one from the other."""

from tests.support.urls import url_patterns as patterns

# Django's own views keep Django's names.
FOREIGN = {"login", "logout"}


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
