"""Admins add channels (audited, through the service) and read every delivery's attempts;
deliveries cannot be edited or deleted."""

import pytest
from django.db import transaction

from notifications.models import Channel, Delivery
from releases.audit import audit_record
from releases.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_an_admin_adds_a_channel_and_it_is_audited_without_its_url(login, registered):
    response = login("admin").post_form(
        "/admin/notifications/channel/add/",
        {
            "name": "releases chat",
            "url": "slack://TokenA/TokenB/TokenC/#releases",
            "repository": registered.pk,
            "events": '["promoted"]',
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    channel = Channel.objects.get(name="releases chat")
    event = AuditEvent.objects.get(action="channel.created")
    assert event.actor_name == "admin" and event.repository_name == "pipeline"
    assert event.payload == {"events": ["promoted"], "enabled": True}
    assert "Token" not in str(event.payload) and channel.hears("promoted")


def test_admins_read_deliveries_and_their_errors_others_do_not(login, registered, users):
    channel = Channel.objects.create(name="team", url="mailto://127.0.0.1:1?to=a@example.org")
    with transaction.atomic():
        audit_record(actor="test", action="freeze.created", repository=registered)
    row = Delivery.objects.get(channel=channel)
    Delivery.objects.filter(pk=row.pk).update(last_error="connection refused by 127.0.0.1:1")

    page = login("admin").get("/admin/notifications/delivery/")
    assert page.status_code == 200
    assert b"pipeline: promotions frozen" in page.content
    assert b"connection refused by 127.0.0.1:1" in page.content
    detail = login("admin").get(f"/admin/notifications/delivery/{row.pk}/change/")
    assert detail.status_code == 200 and b"Save" not in detail.content
    assert login("admin").post_form(
        f"/admin/notifications/delivery/{row.pk}/delete/", {"post": "yes"}
    ).status_code in (302, 403)
    assert Delivery.objects.filter(pk=row.pk).exists()
    for username in ("rm-ana", "viewer"):
        assert login(username).get("/admin/notifications/delivery/").status_code in (302, 403)
        assert login(username).get("/admin/notifications/channel/").status_code in (302, 403)
