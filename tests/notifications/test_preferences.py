"""Who is e-mailed: the default routing table by role, each person's preferences winning
both ways, a candidate's creator, and nobody without a mail server. The e-mails reach a
real SMTP server."""

import pytest
from django.db import transaction

from notifications import delivery, services
from notifications.audiences import preferences_of
from notifications.models import Delivery
from releases.audit import audit_record
from tests.promotion.conftest import waive

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail_server(smtp, settings):
    settings.EWSDASH_NOTIFY_EMAIL_URL = (
        f"mailto://127.0.0.1:{smtp.port}?user=ewsdash&from=ewsdash@example.org&mode=insecure"
    )
    return smtp


def emailed() -> list[str]:
    return sorted(
        Delivery.objects.filter(recipient__isnull=False).values_list(
            "recipient__username", flat=True
        )
    )


def send_all() -> None:
    for pk in Delivery.objects.order_by("pk").values_list("pk", flat=True):
        assert delivery.delivery_send(delivery_id=pk).status == "sent"


def test_approval_requests_reach_release_managers_and_admins_by_default(
    candidate, users, mail_server
):
    waive(candidate, users)
    assert emailed() == ["admin", "rm-ana", "rm-ben"]
    send_all()
    mails = mail_server.mailbox.wait_for(3)
    assert sorted(rcpt for [rcpt] in mail_server.mailbox.recipients) == [
        "admin@ewsdash.example",
        "rm-ana@ewsdash.example",
        "rm-ben@ewsdash.example",
    ]
    assert all("awaits approval" in str(mail["Subject"]) for mail in mails)


def test_a_person_who_opted_out_receives_nothing_and_one_who_opted_in_does(
    candidate, users, mail_server
):
    # Ben keeps everything but approval requests; the analyst asks for them.
    keys = {row.key for row in preferences_of(user=users["rm-ben"]) if row.email}
    services.preferences_save(user=users["rm-ben"], email_on=keys - {"approval_requested"})
    services.preferences_save(user=users["analyst"], email_on={"approval_requested"})

    waive(candidate, users)
    assert emailed() == ["admin", "analyst", "rm-ana"]
    send_all()
    mail_server.mailbox.wait_for(3)
    received = [rcpt for [rcpt] in mail_server.mailbox.recipients]
    assert "rm-ben@ewsdash.example" not in received
    assert "analyst@ewsdash.example" in received


def test_promotions_reach_everyone_with_a_role_and_incidents_admins_only(
    candidate, users, mail_server
):
    with transaction.atomic():
        audit_record(
            actor="test", action="candidate.released", obj=candidate, repository="pipeline"
        )
    assert emailed() == ["admin", "analyst", "rm-ana", "rm-ben", "viewer"]  # not "outsider"
    Delivery.objects.all().delete()
    with transaction.atomic():
        audit_record(actor="test", action="incident.opened", repository="pipeline")
    assert emailed() == ["admin"]


def test_a_failed_validation_reaches_the_creator_even_outside_the_roles(
    candidate, users, mail_server
):
    # The creator left the release managers; the failure is still theirs to hear about.
    users["rm-ana"].groups.set([users["viewer"].groups.get()])
    with transaction.atomic():
        audit_record(
            actor="test", action="candidate.validation_failed", obj=candidate, repository="pipeline"
        )
    assert emailed() == ["admin", "rm-ana", "rm-ben"]


def test_without_a_mail_server_nobody_is_emailed(candidate, users, settings):
    settings.EWSDASH_NOTIFY_EMAIL_URL = ""
    waive(candidate, users)
    assert emailed() == []


def test_the_preferences_rows_show_the_default_by_role(users):
    rows = {row.key: row for row in preferences_of(user=users["viewer"])}
    assert rows["promoted"].default and rows["promoted"].email
    assert not rows["approval_requested"].default
    assert not rows["incident_opened"].default
    admin = {row.key: row for row in preferences_of(user=users["admin"])}
    assert all(row.default for row in admin.values())
