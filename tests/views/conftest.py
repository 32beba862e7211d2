"""What a person's POST does: the request as a browser sends it, then its effects.

`post` sends a form as a signed-in user (with the CSRF token) and lets the transaction's
on-commit hooks run; `sent` lists the task messages those hooks handed to the broker
(recorded at `ewsdash.queue.enqueue`, so no worker is needed); `events` reads the audit
log; `flashes` the messages the next page shows.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.messages import get_messages

from ewsdash import queue
from releases.models import AuditEvent

# The promotion fixtures (a promotable repository, a candidate that failed validation
# for want of a manifest, one validated by a waiver, one approved), shared as they are.
from tests.promotion.conftest import approved, candidate, repo, validated  # noqa: F401

# The sandbox's and the validation runs' (bwrap at hand; no task queued), for the manifest
# approval's test.
from tests.sandbox.conftest import working_bwrap  # noqa: F401
from tests.validation_runs.conftest import no_enqueue  # noqa: F401


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, dict]]:
    messages: list[tuple[str, dict]] = []
    monkeypatch.setattr(queue, "enqueue", lambda task, **kwargs: messages.append((task, kwargs)))
    return messages


@pytest.fixture
def post(login, django_capture_on_commit_callbacks) -> Callable:
    def send(username: str, url: str, data: dict | None = None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return login(username).post_form(url, data or {}, **kwargs)

    return send


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def flashes(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]
