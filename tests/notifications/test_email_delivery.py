"""Notifications reach a real SMTP server: the outbox row is written with its audit event,
claimed and finished by a worker, retried with back-off, and never lost."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from notifications import delivery
from notifications.models import Channel, Delivery, DeliveryStatus
from releases import candidates, operation_runner
from releases.audit import audit_record
from releases.models import AuditEvent
from tests.promotion.conftest import waive
from tests.support.queued import enqueued
from tests.support.smtp import SmtpServer, free_port, text_of

pytestmark = pytest.mark.django_db


def record(candidate, action: str) -> AuditEvent:
    return audit_record(actor="test", action=action, obj=candidate, repository="pipeline")


def deliver_all() -> list[str]:
    return [
        delivery.delivery_send(delivery_id=pk).status
        for pk in Delivery.objects.order_by("pk").values_list("pk", flat=True)
    ]


def test_approval_request_and_promotion_done_arrive_by_email(
    candidate, users, smtp, mail_channel, django_capture_on_commit_callbacks
):
    mail_channel.events = ["approval_requested", "promoted"]
    mail_channel.save()

    with django_capture_on_commit_callbacks(execute=False) as queued:
        waive(candidate, users)
    assert len(enqueued(queued)) == 1  # the delivery task, sent once the change commits
    row = Delivery.objects.get()
    assert row.event == AuditEvent.objects.get(action="candidate.validation_waived")
    assert row.status == DeliveryStatus.PENDING
    assert deliver_all() == ["sent"]

    [mail] = smtp.mailbox.wait_for(1)
    assert mail["Subject"] == (
        f"pipeline: candidate #{candidate.pk} 1.1.0 from development awaits approval"
        " (validation waived)"
    )
    assert smtp.mailbox.recipients == [["release-managers@example.org"]]
    body = text_of(mail)
    assert f"https://ews.example.org/r/pipeline/candidates/{candidate.pk}/" in body
    assert "approve or reject" in body
    assert "By: admin" in body

    candidates.candidate_approve(candidate=candidate, actor=users["rm-ben"])
    candidates.candidate_approve(candidate=candidate, actor=users["admin"])
    with django_capture_on_commit_callbacks(execute=False):
        candidates.candidate_promote(candidate=candidate, actor=users["rm-ben"])
    assert operation_runner.promotion_run(candidate_id=candidate.pk).startswith("released v1.1.0")
    # "approved" is not among the channel's events: only the promotion is queued.
    assert list(Delivery.objects.values_list("event_key", flat=True).order_by("pk")) == [
        "approval_requested",
        "promoted",
    ]
    assert deliver_all() == ["skipped", "sent"]  # the first was already sent

    mails = smtp.mailbox.wait_for(2)
    assert mails[1]["Subject"] == (
        f"pipeline: promotion done, #{candidate.pk} 1.1.0 from development is on production"
    )
    sent = Delivery.objects.get(event_key="promoted")
    assert sent.status == DeliveryStatus.SENT and sent.attempts == 1
    assert sent.attempt_log[0]["error"] == ""


def test_the_outbox_row_rolls_back_with_its_change(candidate, mail_channel):
    with pytest.raises(RuntimeError), transaction.atomic():
        record(candidate, "candidate.validated")
        assert Delivery.objects.count() == 1
        raise RuntimeError("the change failed")
    assert not Delivery.objects.exists()

    with transaction.atomic():
        event = record(candidate, "candidate.validated")
    assert Delivery.objects.get().event == event


def test_channels_hear_their_repository_and_events_only(candidate, smtp, db):
    Channel.objects.create(name="other repo", url=smtp.channel_url(), repository=None)
    Channel.objects.create(name="disabled", url=smtp.channel_url(), enabled=False)
    Channel.objects.create(name="freezes only", url=smtp.channel_url(), events=["freeze_started"])
    with transaction.atomic():
        record(candidate, "candidate.validated")
        record(candidate, "candidate.created")
    assert list(Delivery.objects.values_list("channel__name", "event_key")) == [
        ("other repo", "approval_requested")
    ]


def test_a_failing_channel_backs_off_then_gives_up(candidate, settings, db):
    settings.EWSDASH_NOTIFY_RETRY_BASE = 30
    settings.EWSDASH_NOTIFY_MAX_ATTEMPTS = 2
    # Nothing listens on this port: every attempt is refused.
    Channel.objects.create(name="down", url=SmtpServer(free_port()).channel_url())
    with transaction.atomic():
        record(candidate, "candidate.validated")
    row = Delivery.objects.get()

    first = delivery.delivery_send(delivery_id=row.pk)
    assert first.status == "pending" and first.retry_in == 30 and first.error
    row.refresh_from_db()
    assert row.attempts == 1 and row.last_error == first.error
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=25)
    # Not due yet: a redelivered task message does nothing.
    assert delivery.delivery_send(delivery_id=row.pk).status == "skipped"

    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert delivery.delivery_send(delivery_id=row.pk).status == "failed"
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED and row.attempts == 2
    assert [attempt["error"] != "" for attempt in row.attempt_log] == [True, True]


def test_a_claim_whose_worker_died_is_taken_again_and_sent_once(
    candidate, smtp, mail_channel, settings
):
    with transaction.atomic():
        record(candidate, "candidate.validated")
    row = Delivery.objects.get()
    # A worker claimed it and died before sending.
    assert delivery.delivery_claim(delivery_id=row.pk) is not None
    assert delivery.delivery_send(delivery_id=row.pk).status == "skipped"  # its lease holds
    assert delivery.deliveries_resend_due() == []

    lapsed = timezone.now() - timedelta(seconds=settings.EWSDASH_NOTIFY_LEASE + 1)
    Delivery.objects.filter(pk=row.pk).update(claimed_at=lapsed)
    assert delivery.delivery_send(delivery_id=row.pk).status == "sent"
    assert delivery.delivery_send(delivery_id=row.pk).status == "skipped"
    assert len(smtp.mailbox.wait_for(1)) == 1
    row.refresh_from_db()
    assert row.attempts == 2 and row.status == DeliveryStatus.SENT
