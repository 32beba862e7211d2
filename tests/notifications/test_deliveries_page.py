"""The deliveries page (admins): every attempt's status, target, event and error, filtered;
the Redeliver button on finished ones; in a fixed number of queries."""

import pytest
from django.db import transaction
from django.urls import reverse

from notifications.models import Channel, Delivery, DeliveryStatus
from releases.audit import audit_record
from tests.notifications.factories import sent_delivery

pytestmark = pytest.mark.django_db

URL = reverse("delivery_list")


def rows(html: str) -> int:
    return html.count('data-testid="delivery-row"')


def test_admins_read_every_delivery_with_its_error_and_filter_them(login, registered, users):
    ok = sent_delivery(status=DeliveryStatus.SENT, channel_name="chat")
    failed = sent_delivery(status=DeliveryStatus.FAILED, channel_name="mail")
    pending = sent_delivery(status=DeliveryStatus.PENDING, channel_name="other")
    admin = login("admin")

    page = admin.get(URL).content.decode()
    assert rows(page) == 3
    assert "HTTP 500" in page and "pipeline: promotions frozen" in page
    assert "channel: mail" in page
    # Finished deliveries may be sent again; one still pending may not.
    assert reverse("delivery_redeliver", kwargs={"pk": ok}) in page
    assert reverse("delivery_redeliver", kwargs={"pk": failed}) in page
    assert reverse("delivery_redeliver", kwargs={"pk": pending}) not in page

    only_failed = admin.get(URL, {"status": "failed"}).content.decode()
    assert rows(only_failed) == 1 and "channel: mail" in only_failed
    assert rows(admin.get(URL, {"target": "webhook"}).content.decode()) == 0
    assert (
        rows(admin.get(URL, {"event": "freeze_started", "target": "channel"}).content.decode()) == 3
    )
    assert rows(admin.get(URL, {"event": "promoted"}).content.decode()) == 0


def test_the_page_costs_a_fixed_number_of_queries(
    login, registered, users, django_assert_max_num_queries
):
    client = login("admin")
    client.get(URL)
    Channel.objects.bulk_create(
        Channel(name=f"c{n}", url=f"json://127.0.0.1:9/{n}") for n in range(30)
    )
    with transaction.atomic():
        audit_record(actor="test", action="freeze.created", repository="pipeline")
    assert Delivery.objects.count() == 30
    with django_assert_max_num_queries(10):
        page = client.get(URL)
    assert rows(page.content.decode()) == 30


def test_others_are_refused(login, registered, users):
    for username in ("viewer", "analyst", "rm-ana"):
        assert login(username).get(URL).status_code == 403
