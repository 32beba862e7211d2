"""Errors a person meets: a refusal logs one line, a server error keeps the layout."""

import io
import logging

import pytest
from django.urls import reverse

from ewsdash.logs import ForbiddenWithoutTraceback

pytestmark = pytest.mark.django_db


def console_handler() -> logging.Handler:
    return next(
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(f, ForbiddenWithoutTraceback) for f in handler.filters)
    )


def test_a_refused_page_logs_one_line_without_a_traceback(login, registered):
    handler = console_handler()
    stream = io.StringIO()
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        response = login("outsider").get(reverse("branch_list", kwargs={"name": "pipeline"}))
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
    assert response.status_code == 403
    logged = stream.getvalue()
    assert "Forbidden" in logged and "/r/pipeline/branches/" in logged
    assert "Traceback" not in logged and len(logged.strip().splitlines()) == 1


def test_the_server_error_page_uses_the_layout(client, users, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("releases.selectors.repository_list", broken)
    client.raise_request_exception = False
    client.force_login(users["viewer"])
    response = client.get(reverse("overview"))
    assert response.status_code == 500
    page = response.content.decode()
    assert 'data-testid="server-error"' in page and "Something went wrong" in page
    assert 'class="brand"' in page and "css/ewsdash.css" in page
