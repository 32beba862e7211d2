"""Redeliver: an admin sends a finished delivery again (same body, same delivery id),
audited and queued; one still being sent is refused; other roles may not."""

import pytest
from django.db import transaction
from django.urls import reverse

from ewsdash.queue import NOTIFICATION_DELIVER
from notifications import delivery, services
from notifications.models import Delivery, DeliveryStatus, Webhook
from releases.audit import audit_record
from tests.notifications.factories import sent_delivery
from tests.support.receiver import Receiver
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def redeliver_url(pk: int) -> str:
    return reverse("delivery_redeliver", kwargs={"pk": pk})


def test_it_queues_a_failed_delivery_again_and_audits_it(post, sent, users, registered):
    pk = sent_delivery(status=DeliveryStatus.FAILED)

    response = post("admin", redeliver_url(pk))

    assert response["Location"] == reverse("delivery_list")
    assert flashes(response) == [f"Delivery #{pk} queued again."]
    row = Delivery.objects.get(pk=pk)
    assert row.status == DeliveryStatus.PENDING and row.attempts == 0
    assert row.attempt_log[-1]["redelivered_by"] == "admin"
    assert len(row.attempt_log) == 2  # the failed attempt is kept
    (event,) = events("delivery.redelivered")
    assert event.actor_name == "admin" and event.payload["previous_status"] == "failed"
    assert [(task, kwargs["delivery_id"]) for task, kwargs in sent] == [(NOTIFICATION_DELIVER, pk)]


def test_it_sends_a_webhook_the_same_signed_body_again(post, sent, users, registered):
    receiver = Receiver().start()
    try:
        hook = services.webhook_save(
            webhook=Webhook(name="ops", url=receiver.url()),
            actor=users["admin"],
            created=True,
            secret="a-secret-of-enough-length",
        )
        with transaction.atomic():
            audit_record(actor="test", action="freeze.created", repository="pipeline")
        row = Delivery.objects.get(webhook=hook)
        assert delivery.delivery_send(delivery_id=row.pk).status == "sent"

        post("admin", redeliver_url(row.pk))
        assert delivery.delivery_send(delivery_id=row.pk).status == "sent"
        first, again = receiver.wait_for(2)
        assert first.body == again.body
        assert first.headers["X-Ewsdash-Signature-256"] == again.headers["X-Ewsdash-Signature-256"]
        assert again.headers["X-Ewsdash-Delivery"] == str(row.pk)
    finally:
        receiver.stop()


def test_it_refuses_a_delivery_still_being_sent(post, sent, users, registered):
    pk = sent_delivery(status=DeliveryStatus.PENDING)

    response = post("admin", redeliver_url(pk))

    assert response["Location"] == reverse("delivery_list")
    assert "still being sent" in flashes(response)[0]
    assert events("delivery.redelivered") == [] and sent == []


def test_it_is_refused_to_release_managers(post, sent, users, registered):
    pk = sent_delivery(status=DeliveryStatus.FAILED)

    assert post("rm-ana", redeliver_url(pk)).status_code == 403
    assert Delivery.objects.get(pk=pk).status == DeliveryStatus.FAILED
    assert events("delivery.redelivered") == [] and sent == []
