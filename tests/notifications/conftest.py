"""A promotable repository, a real SMTP server, and a mail channel pointing at it."""

from __future__ import annotations

import pytest

from notifications.models import Channel
from tests.promotion.conftest import approved, candidate, repo, validated  # noqa: F401
from tests.support.smtp import SmtpServer


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_channel(smtp, db, settings):
    settings.EWSDASH_PUBLIC_URL = "https://ews.example.org"
    return Channel.objects.create(name="release managers", url=smtp.channel_url())


@pytest.fixture
def receiver():
    from tests.support.receiver import Receiver

    server = Receiver().start()
    yield server
    server.stop()


SECRET = "a-webhook-secret-of-32-characters"


@pytest.fixture
def webhook(receiver, users, repo):  # noqa: F811 (the fixture)
    """A webhook on the pipeline repository, made as an admin makes it (audited)."""
    from notifications import services
    from notifications.models import Webhook

    return services.webhook_save(
        webhook=Webhook(name="ops", url=receiver.url("/ews"), repository=repo),
        actor=users["admin"],
        created=True,
        secret=SECRET,
    )
