"""Outgoing webhooks to a real HTTP receiver on 127.0.0.1: a signed JSON payload that
matches its published schema, the same bytes and delivery id on every retry, a receiver
answering 500 then 200 retried, and a chat channel (apprise's json://) reaching it too."""

import hashlib
import hmac
import json
from pathlib import Path

import jsonschema
import pytest
from django.db import transaction
from django.utils import timezone

from notifications import delivery
from notifications.models import Channel, Delivery, DeliveryStatus, Webhook
from releases.audit import audit_record
from releases.models import AuditEvent
from tests.notifications.conftest import SECRET
from tests.promotion.conftest import waive

pytestmark = pytest.mark.django_db

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "notifications" / "webhook-payload.schema.json").read_text()
)


def expected_signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_webhook_receives_a_signed_payload_that_matches_its_schema(
    candidate, users, webhook, receiver, settings
):
    settings.EWSDASH_PUBLIC_URL = "https://ews.example.org"
    waive(candidate, users)
    row = Delivery.objects.get(webhook=webhook)
    assert delivery.delivery_send(delivery_id=row.pk).status == "sent"

    [request] = receiver.wait_for(1)
    assert request.path == "/ews"
    assert request.headers["X-Ewsdash-Signature-256"] == expected_signature(request.body)
    assert request.headers["X-Ewsdash-Delivery"] == str(row.pk)
    assert request.headers["X-Ewsdash-Event"] == "approval_requested"
    assert request.headers["Content-Type"] == "application/json"
    payload = json.loads(request.body)
    jsonschema.validate(payload, SCHEMA)
    event = AuditEvent.objects.get(action="candidate.validation_waived")
    assert payload["event"] == "approval_requested" and payload["action"] == event.action
    assert payload["object"]["url"] == (
        f"https://ews.example.org/r/pipeline/candidates/{candidate.pk}/"
    )
    assert payload["audit"] == {
        "seq": event.seq,
        "hash": event.hash,
        "at": event.created_at.isoformat(),
    }
    assert payload["reason"] == "Waived by admin: no manifest in this test repository"
    # A wrong secret does not verify: the receiver can tell a forgery.
    assert request.headers["X-Ewsdash-Signature-256"] != expected_signature(
        request.body, "another-secret-of-some-length"
    )


def test_the_secret_is_stored_encrypted_and_never_audited(webhook):
    stored = Webhook.objects.get(pk=webhook.pk).secret_encrypted
    assert SECRET not in stored and stored
    created = AuditEvent.objects.get(action="webhook.created")
    assert SECRET not in json.dumps(created.payload)
    assert created.payload["secret_changed"] is True


def test_a_failing_receiver_is_retried_with_the_same_body_and_delivery_id(
    candidate, webhook, receiver, settings
):
    settings.EWSDASH_NOTIFY_RETRY_BASE = 30
    receiver.statuses = [500]
    with transaction.atomic():
        audit_record(actor="test", action="freeze.created", repository="pipeline")
    row = Delivery.objects.get(webhook=webhook)

    first = delivery.delivery_send(delivery_id=row.pk)
    assert first.status == "pending" and first.retry_in == 30
    assert first.error == "HTTP 500: receiver is down"
    webhook.refresh_from_db()
    assert webhook.consecutive_failures == 1

    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert delivery.delivery_send(delivery_id=row.pk).status == "sent"
    failed, accepted = receiver.wait_for(2)
    assert (failed.answered, accepted.answered) == (500, 200)
    assert failed.body == accepted.body
    assert failed.headers["X-Ewsdash-Delivery"] == accepted.headers["X-Ewsdash-Delivery"]
    assert accepted.headers["X-Ewsdash-Signature-256"] == expected_signature(accepted.body)
    row.refresh_from_db()
    assert row.status == DeliveryStatus.SENT and row.attempts == 2
    assert [attempt["error"] for attempt in row.attempt_log] == ["HTTP 500: receiver is down", ""]
    webhook.refresh_from_db()
    assert webhook.consecutive_failures == 0


def test_a_webhook_hears_only_its_repository_and_events(candidate, webhook, receiver):
    webhook.events = ["promoted"]
    webhook.save()
    with transaction.atomic():
        audit_record(actor="test", action="freeze.created", repository="pipeline")
        audit_record(actor="test", action="freeze.created", repository="elsewhere")
    assert not Delivery.objects.filter(webhook=webhook).exists()


def test_a_chat_channel_posts_to_the_receiver(candidate, users, receiver):
    # apprise's json:// is a generic chat webhook: a JSON body with title and message.
    Channel.objects.create(name="chat", url=f"json://127.0.0.1:{receiver.port}/chat")
    waive(candidate, users)
    row = Delivery.objects.get(channel__name="chat")
    assert delivery.delivery_send(delivery_id=row.pk).status == "sent"

    [request] = receiver.wait_for(1)
    assert request.path == "/chat"
    message = json.loads(request.body)
    assert message["title"].startswith(f"pipeline: candidate #{candidate.pk}")
    assert "approve or reject" in message["message"]
    assert f"/r/pipeline/candidates/{candidate.pk}/" in message["message"]


def test_a_chat_channel_that_keeps_failing_is_flagged_for_admins(
    candidate, users, receiver, login, settings
):
    settings.EWSDASH_NOTIFY_FAILING_AFTER = 3
    settings.EWSDASH_NOTIFY_MAX_ATTEMPTS = 10
    receiver.statuses = [500, 500, 500]
    Channel.objects.create(name="chat", url=f"json://user:hunter2@127.0.0.1:{receiver.port}/c")
    with transaction.atomic():
        audit_record(actor="test", action="freeze.created", repository="pipeline")
    row = Delivery.objects.get()

    def page(username: str) -> str:
        return login(username).get("/r/pipeline/").content.decode()

    for _ in range(3):
        assert "failing-channel" not in page("admin")
        Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        assert delivery.delivery_send(delivery_id=row.pk).status == "pending"
    admin_page = page("admin")
    assert 'data-testid="failing-channel"' in admin_page
    assert "chat" in admin_page and "its last 3 attempts failed" in admin_page
    assert "hunter2" not in admin_page  # the URL is shown redacted
    assert "failing-channel" not in page("rm-ana")  # admins only

    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert delivery.delivery_send(delivery_id=row.pk).status == "sent"
    assert "failing-channel" not in page("admin")  # one success clears the flag


def test_the_schema_names_every_event_of_the_catalogue():
    from notifications.catalogue import EVENT_KEYS

    assert sorted(SCHEMA["properties"]["event"]["enum"]) == EVENT_KEYS
