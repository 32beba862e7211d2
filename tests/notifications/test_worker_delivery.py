"""A real Celery worker delivers the outbox to a real SMTP server, retrying a server that
was down until it is up, and sending each message once; and to a webhook receiver that
answered 500 first."""

import hashlib
import hmac
import time

import pytest

from notifications import services
from notifications.models import Channel, Delivery, DeliveryStatus, Webhook
from tests.promotion.conftest import waive
from tests.support.receiver import Receiver
from tests.support.smtp import SmtpServer, free_port

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def poll(condition, *, timeout: float = 60, what: str = "the state"):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return found


@pytest.fixture
def fast_retries(monkeypatch):
    # Read by the worker process at start-up: a failed try is retried after 1 s, 2 s, ...
    monkeypatch.setenv("EWSDASH_NOTIFY_RETRY_BASE", "1")


def test_the_worker_retries_a_mail_server_that_was_down_and_sends_once(
    candidate, users, fast_retries, celery_worker_process
):
    server = SmtpServer(free_port())  # not started yet: every connection is refused
    Channel.objects.create(name="release managers", url=server.channel_url())
    waive(candidate, users)

    row = poll(
        lambda: next((d for d in Delivery.objects.all() if d.attempt_log), None),
        what="the first attempt recorded",
    )
    assert row.last_error, "a refused connection is an error on the row"
    server.start()
    try:
        [mail] = server.mailbox.wait_for(1, timeout=60)
        assert "awaits approval" in mail["Subject"]
        sent = poll(
            lambda: Delivery.objects.filter(status=DeliveryStatus.SENT).first(),
            what="the delivery marked sent",
        )
        errors = [attempt["error"] for attempt in sent.attempt_log]
        assert sent.attempts == len(errors) >= 2
        assert all(errors[:-1]) and errors[-1] == ""
        assert len(server.mailbox.messages) == 1
    finally:
        server.stop()


def test_the_worker_retries_a_webhook_that_answered_500_and_signs_both_tries(
    candidate, users, fast_retries, celery_worker_process
):
    secret = "a-secret-for-the-real-worker"
    receiver = Receiver(statuses=[500]).start()
    try:
        services.webhook_save(
            webhook=Webhook(name="ops", url=receiver.url()),
            actor=users["admin"],
            created=True,
            secret=secret,
        )
        waive(candidate, users)
        failed, accepted = receiver.wait_for(2, timeout=60)
        sent = poll(
            lambda: Delivery.objects.filter(status=DeliveryStatus.SENT).first(),
            what="the webhook delivery marked sent",
        )
        assert (failed.answered, accepted.answered) == (500, 200)
        for request in (failed, accepted):
            digest = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
            assert request.headers["X-Ewsdash-Signature-256"] == f"sha256={digest}"
            assert request.headers["X-Ewsdash-Delivery"] == str(sent.pk)
        assert sent.attempts == 2 and sent.attempt_log[0]["error"].startswith("HTTP 500")
        time.sleep(1.5)
        assert len(receiver.requests) == 2  # delivered once, after one retry
    finally:
        receiver.stop()
