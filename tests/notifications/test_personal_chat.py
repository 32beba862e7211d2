"""A person's own chat channel: an apprise URL (json:// here) on their notifications page,
reached by a real HTTP receiver on 127.0.0.1 when they ticked the event, never otherwise;
stored encrypted, never audited, shown redacted; and a person's repository scope."""

import json

import pytest
from django.db import transaction
from django.urls import reverse

from notifications import delivery, services
from notifications.audiences import preferences_of
from notifications.models import Delivery, PersonalSettings
from releases.audit import audit_record
from releases.models import AuditEvent, Repository
from tests.promotion.conftest import waive

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def json_allowed(settings):
    """The tests' receiver speaks apprise's json://, which people may not use by default."""
    settings.EWSDASH_NOTIFY_PERSONAL_SCHEMES = [*settings.EWSDASH_NOTIFY_PERSONAL_SCHEMES, "json"]


TOKEN = "s3cr3t-chat-token"


def chat_url(receiver) -> str:
    return f"json://ben:{TOKEN}@127.0.0.1:{receiver.port}/ben"


def keep_email(user) -> set[str]:
    return {row.key for row in preferences_of(user=user) if row.email}


def chatted() -> list[str]:
    rows = Delivery.objects.filter(recipient__isnull=False, chat=True)
    return sorted(rows.values_list("recipient__username", flat=True))


def test_a_person_who_ticked_an_event_gets_it_on_their_chat_url(candidate, users, receiver):
    ben = users["rm-ben"]
    services.preferences_save(
        user=ben,
        email_on=keep_email(ben),
        chat_on={"approval_requested"},
        chat_url=chat_url(receiver),
    )
    waive(candidate, users)

    [row] = Delivery.objects.filter(recipient=ben, chat=True)
    assert row.target_kind == "chat"
    assert delivery.delivery_send(delivery_id=row.pk).status == "sent"
    [request] = receiver.wait_for(1)
    assert request.path == "/ben"
    message = json.loads(request.body)
    assert message["title"].startswith(f"pipeline: candidate #{candidate.pk}")
    assert "approve or reject" in message["message"]


def test_chat_is_off_by_default_and_off_when_unticked(candidate, users, receiver):
    ben = users["rm-ben"]
    # A URL stored, but no event ticked for chat: nothing goes there.
    services.preferences_save(user=ben, email_on=keep_email(ben), chat_url=chat_url(receiver))
    waive(candidate, users)
    assert chatted() == []
    for pk in Delivery.objects.values_list("pk", flat=True):
        delivery.delivery_send(delivery_id=pk)
    assert receiver.requests == []


def test_a_ticked_event_without_a_url_or_after_removal_sends_nothing(candidate, users, receiver):
    ben = users["rm-ben"]
    services.preferences_save(user=ben, email_on=set(), chat_on={"approval_requested"})
    services.preferences_save(
        user=users["rm-ana"],
        email_on=set(),
        chat_on={"approval_requested"},
        chat_url=chat_url(receiver),
    )
    services.preferences_save(
        user=users["rm-ana"], email_on=set(), chat_on={"approval_requested"}, chat_url_remove=True
    )
    waive(candidate, users)
    assert chatted() == []


def test_a_repository_scope_is_honoured_for_chat_and_email(
    candidate, users, receiver, smtp, settings
):
    settings.EWSDASH_NOTIFY_EMAIL_URL = (
        f"mailto://127.0.0.1:{smtp.port}?user=ewsdash&from=ewsdash@example.org&mode=insecure"
    )
    other = Repository.objects.create(name="elsewhere", origin="/nowhere")
    pipeline = Repository.objects.get(name="pipeline")
    ben, ana = users["rm-ben"], users["rm-ana"]
    services.preferences_save(
        user=ben,
        email_on=keep_email(ben),
        chat_on={"approval_requested"},
        chat_url=chat_url(receiver),
        repository_ids={other.pk},
    )
    services.preferences_save(
        user=ana,
        email_on=keep_email(ana),
        chat_on={"approval_requested"},
        chat_url=chat_url(receiver),
        repository_ids={other.pk, pipeline.pk},
    )
    waive(candidate, users)

    assert chatted() == ["rm-ana"]
    emailed = Delivery.objects.filter(recipient__isnull=False, chat=False)
    assert sorted(emailed.values_list("recipient__username", flat=True)) == ["admin", "rm-ana"]
    # Back to every repository: Ben hears pipeline again.
    services.preferences_save(
        user=ben, email_on=keep_email(ben), chat_on={"approval_requested"}, repository_ids=set()
    )
    Delivery.objects.all().delete()
    with transaction.atomic():
        audit_record(
            actor="test", action="candidate.validated", obj=candidate, repository="pipeline"
        )
    assert chatted() == ["rm-ana", "rm-ben"]


def test_the_url_is_stored_encrypted_never_audited_and_shown_redacted(users, receiver, login):
    ben = users["rm-ben"]
    services.preferences_save(user=ben, email_on=set(), chat_url=chat_url(receiver))

    stored = PersonalSettings.objects.get(user=ben).chat_url_encrypted
    assert stored and TOKEN not in stored and "127.0.0.1" not in stored
    event = AuditEvent.objects.filter(action="notification_preferences.changed").latest("pk")
    assert TOKEN not in json.dumps(event.payload)
    assert event.payload["chat_url_changed"] is True

    page = login("rm-ben").get(reverse("notification_preferences")).content.decode()
    assert TOKEN not in page
    assert "json://ben:****@127.0.0.1" in page


def test_a_url_apprise_does_not_understand_is_refused(users):
    from releases.errors import ActionRefused

    with pytest.raises(ActionRefused, match="chat URL"):
        services.preferences_save(user=users["viewer"], email_on=set(), chat_url="nonsense")
    assert not PersonalSettings.objects.exists()


def test_the_deliveries_page_tells_chat_from_email(candidate, users, receiver, smtp, settings):
    from notifications import selectors

    settings.EWSDASH_NOTIFY_EMAIL_URL = f"mailto://127.0.0.1:{smtp.port}?mode=insecure"
    ben = users["rm-ben"]
    services.preferences_save(
        user=ben,
        email_on=keep_email(ben),
        chat_on={"approval_requested"},
        chat_url=chat_url(receiver),
    )
    waive(candidate, users)
    chats = list(selectors.deliveries(target="chat"))
    assert [(row.target_kind, row.target_name) for row in chats] == [("chat", "rm-ben")]
    mails = selectors.deliveries(target="e-mail")
    assert "rm-ben" in {row.target_name for row in mails}
    assert all(row.target_kind == "e-mail" for row in mails)


def test_a_stored_url_whose_service_is_no_longer_allowed_is_not_posted_to(
    candidate, users, receiver, settings
):
    ben = users["rm-ben"]
    services.preferences_save(
        user=ben,
        email_on=keep_email(ben),
        chat_on={"approval_requested"},
        chat_url=chat_url(receiver),
    )
    settings.EWSDASH_NOTIFY_PERSONAL_SCHEMES = ["slack"]
    waive(candidate, users)
    (row,) = Delivery.objects.filter(recipient=ben, chat=True)

    delivery.delivery_send(delivery_id=row.pk)

    row.refresh_from_db()
    assert "no longer allows" in row.last_error
    assert receiver.requests == []
