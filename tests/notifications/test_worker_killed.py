"""The outbox survives a worker killed with SIGKILL in the middle of sending: a new worker
and beat's sweep deliver every message; the figures say how many arrived more than once."""

import asyncio
import re
from collections import Counter

import pytest
from django.db import transaction

from notifications.delivery import deliveries_resend_due
from notifications.models import Channel, Delivery, DeliveryStatus
from releases.audit import audit_record
from tests.support.smtp import Mailbox, SmtpServer
from tests.support.worker import WorkerProcess, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MESSAGES = 12


class SlowMailbox(Mailbox):
    """A mail server that takes a moment to accept each message, so a kill lands mid-send:
    after the whole message reached it, before it answered "250"."""

    started = 0

    async def handle_DATA(self, server, session, envelope):
        self.started += 1
        await asyncio.sleep(0.5)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def short_lease(monkeypatch, settings):
    # Read by the worker processes at start-up, and by the sweep run here.
    monkeypatch.setenv("EWSDASH_NOTIFY_LEASE", "10")
    monkeypatch.setenv("EWSDASH_NOTIFY_RETRY_BASE", "1")
    settings.EWSDASH_NOTIFY_LEASE = 10


def test_every_message_arrives_after_the_worker_is_killed_mid_send(
    candidate, short_lease, celery_worker_process, tmp_path
):
    server = SmtpServer()
    server.mailbox = SlowMailbox()
    server.controller.handler = server.mailbox
    server.start()
    Channel.objects.create(name="release managers", url=server.channel_url())
    try:
        with transaction.atomic():
            for _ in range(MESSAGES):
                audit_record(
                    actor="test", action="candidate.validated", obj=candidate, repository="pipeline"
                )
        wait_for(lambda: server.mailbox.started >= 4, timeout=60, interval=0.02)
        celery_worker_process.kill()  # while the 4th message waits for the server's answer
        arrived_before_kill = len(server.mailbox.messages)

        second = WorkerProcess(tmp_path / "worker-2.log").start()
        try:

            def all_sent() -> bool:
                deliveries_resend_due(grace=5)  # what beat does every minute
                return not Delivery.objects.exclude(status=DeliveryStatus.SENT).exists()

            wait_for(all_sent, timeout=120, interval=1, message="not every delivery was sent")
        finally:
            second.stop()

        per_event = Counter(
            re.search(r"audit event #(\d+)", str(message.get_body())).group(1)
            for message in server.mailbox.messages
        )
        duplicates = sum(count - 1 for count in per_event.values())
        print(
            f"\n{MESSAGES} messages; {arrived_before_kill} arrived before the kill; "
            f"{len(server.mailbox.messages)} e-mails in all; {len(per_event)} distinct; "
            f"{duplicates} duplicate(s); attempts "
            f"{sorted(Delivery.objects.values_list('attempts', flat=True))}"
        )
        assert len(per_event) == MESSAGES  # none lost
        # The message in flight at the kill reached the server, but its worker never heard
        # the answer: its claim lapses and it is sent again. Delivery is at least once.
        assert duplicates <= 1
        assert sorted(Delivery.objects.values_list("attempts", flat=True))[-1] == 2
    finally:
        server.stop()
