"""Admins add channels (audited, through the service) and read every delivery's attempts;
deliveries cannot be edited or deleted."""

import pytest
from django.db import transaction

from notifications.models import Channel, Delivery, Webhook
from notifications.secrets import secret_decrypt
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


def test_a_channel_url_is_shown_redacted_and_kept_when_left_empty(login, registered):
    admin = login("admin")
    admin.post_form(
        "/admin/notifications/channel/add/",
        {"name": "chat", "url": "json://bot:s3cr3t-token@chat.example.org/hook", "events": "[]"},
    )
    channel = Channel.objects.get(name="chat")
    listing = admin.get("/admin/notifications/channel/").content.decode()
    form = admin.get(f"/admin/notifications/channel/{channel.pk}/change/").content.decode()
    assert "s3cr3t-token" not in listing and "s3cr3t-token" not in form
    assert "json://bot:****@chat.example.org/hook" in listing

    response = admin.post_form(
        f"/admin/notifications/channel/{channel.pk}/change/",
        {"name": "chat", "url": "", "events": '["promoted"]', "enabled": "on"},
    )
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.url == "json://bot:s3cr3t-token@chat.example.org/hook"
    assert channel.events == ["promoted"]


def test_a_channel_needs_a_url_or_an_email_list_not_both(login, registered):
    both = login("admin").post_form(
        "/admin/notifications/channel/add/",
        {"name": "x", "url": "json://h/x", "emails": "a@example.org", "events": "[]"},
    )
    assert both.status_code == 200 and b"not both" in both.content
    assert not Channel.objects.exists()


def test_an_admin_adds_a_webhook_whose_secret_is_write_only(login, registered):
    admin = login("admin")
    response = admin.post_form(
        "/admin/notifications/webhook/add/",
        {
            "name": "ops",
            "url": "https://hooks.example.org/ews?token=abc",
            "secret": "the-webhook-secret-value",
            "repository": registered.pk,
            "events": "[]",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    hook = Webhook.objects.get(name="ops")
    assert secret_decrypt(hook.secret_encrypted) == "the-webhook-secret-value"
    form = admin.get(f"/admin/notifications/webhook/{hook.pk}/change/").content.decode()
    listing = admin.get("/admin/notifications/webhook/").content.decode()
    assert "the-webhook-secret-value" not in form + listing
    assert "token=abc" not in listing and "https://hooks.example.org/…" in listing
    event = AuditEvent.objects.get(action="webhook.created")
    assert "the-webhook-secret-value" not in str(event.payload)

    # Saved again without a secret: the stored one is kept.
    admin.post_form(
        f"/admin/notifications/webhook/{hook.pk}/change/",
        {"name": "ops", "url": hook.url, "secret": "", "events": "[]", "enabled": "on"},
    )
    hook.refresh_from_db()
    assert secret_decrypt(hook.secret_encrypted) == "the-webhook-secret-value"
    assert AuditEvent.objects.get(action="webhook.changed").payload["secret_changed"] is False

    short = admin.post_form(
        "/admin/notifications/webhook/add/",
        {"name": "weak", "url": "https://h.example.org/", "secret": "short", "events": "[]"},
    )
    assert short.status_code == 200 and not Webhook.objects.filter(name="weak").exists()
