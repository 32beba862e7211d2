"""Saving your notification settings: the boxes ticked are the events you are e-mailed
or sent by chat about, every other one is off; your chat URL (write-only) and
repositories; audited without the URL; an unknown event key or chat URL is refused."""

import json

import pytest
from django.urls import reverse

from notifications.audiences import preferences_of
from notifications.models import PersonalSettings, Preference
from notifications.secrets import secret_decrypt
from releases.models import Repository
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db

URL = reverse("notification_preferences_save")


@pytest.fixture(autouse=True)
def json_allowed(request, settings):
    """CHAT is apprise's json://, which people may not use by default (the last test)."""
    if request.node.name != "test_it_refuses_a_chat_url_that_posts_to_any_address":
        settings.EWSDASH_NOTIFY_PERSONAL_SCHEMES = [
            *settings.EWSDASH_NOTIFY_PERSONAL_SCHEMES,
            "json",
        ]


def test_it_stores_the_choice_for_every_event(post, users, registered):
    response = post("viewer", URL, {"email": ["approval_requested", "promoted"]})

    assert response["Location"] == reverse("notification_preferences")
    rows = {row.key: row.email for row in preferences_of(user=users["viewer"])}
    assert rows["approval_requested"] and rows["promoted"]
    assert not rows["rolled_back"]  # on by default for a viewer, now off
    assert Preference.objects.filter(user=users["viewer"]).count() == len(rows)
    (event,) = events("notification_preferences.changed")
    assert event.actor_name == "viewer"
    assert event.payload["email_on"] == ["approval_requested", "promoted"]
    assert "rolled_back" in event.payload["changed"]
    assert flashes(response)[0].startswith("Saved:")


def test_the_page_shows_the_choice(post, login, users, registered):
    post("viewer", URL, {"email": ["freeze_started"]})
    page = login("viewer").get(reverse("notification_preferences")).content.decode()
    assert 'value="freeze_started" aria-label="E-mail me: freeze_started" checked' in page
    assert 'value="promoted" aria-label="E-mail me: promoted" >' in page


def test_it_refuses_an_unknown_event(post, users, registered):
    response = post("viewer", URL, {"email": ["everything"]})

    assert flashes(response) == ["Unknown events: everything."]
    assert not Preference.objects.exists()
    assert events("notification_preferences.changed") == []


CHAT = "json://bot:chat-token-123@127.0.0.1:9/room"


def test_it_stores_chat_choices_a_chat_url_and_repositories(post, users, registered):
    pipeline = Repository.objects.get(name="pipeline")
    response = post(
        "viewer",
        URL,
        {
            "email": ["promoted"],
            "chat": ["promoted", "rolled_back"],
            "chat_url": CHAT,
            "repositories": [str(pipeline.pk)],
        },
    )

    assert flashes(response)[0].startswith("Saved:")
    rows = {row.key: row for row in preferences_of(user=users["viewer"])}
    assert rows["promoted"].chat and rows["rolled_back"].chat and not rows["freeze_started"].chat
    own = PersonalSettings.objects.get(user=users["viewer"])
    assert secret_decrypt(own.chat_url_encrypted) == CHAT
    assert list(own.repositories.values_list("name", flat=True)) == ["pipeline"]
    (event,) = events("notification_preferences.changed")
    assert event.payload["chat_on"] == ["promoted", "rolled_back"]
    assert event.payload["repositories"] == ["pipeline"]
    assert event.payload["chat_url_changed"] is True
    assert "chat-token-123" not in json.dumps(event.payload)


def test_an_empty_chat_url_keeps_the_stored_one_and_remove_deletes_it(post, users, registered):
    post("viewer", URL, {"chat_url": CHAT})
    post("viewer", URL, {"chat_url": ""})
    own = PersonalSettings.objects.get(user=users["viewer"])
    assert secret_decrypt(own.chat_url_encrypted) == CHAT
    assert own.repositories.count() == 0  # none chosen: every repository

    post("viewer", URL, {"chat_url_remove": "1"})
    own.refresh_from_db()
    assert own.chat_url_encrypted == ""
    assert events("notification_preferences.changed")[-1].payload["chat_url_removed"] is True


def test_the_page_shows_the_chat_url_redacted(post, login, users, registered):
    post("viewer", URL, {"chat_url": CHAT})
    page = login("viewer").get(reverse("notification_preferences")).content.decode()
    assert "chat-token-123" not in page
    assert "json://bot:****@127.0.0.1:9" in page
    assert 'name="chat_url_remove"' in page


def test_it_refuses_a_chat_url_apprise_does_not_understand(post, users, registered):
    response = post("viewer", URL, {"chat_url": "not a url"})

    assert flashes(response) == ["apprise does not understand that chat URL."]
    assert not PersonalSettings.objects.exists()
    assert events("notification_preferences.changed") == []


def test_it_refuses_a_chat_url_that_posts_to_any_address(post, users, registered):
    """json://, form:// and the like would let anyone with a role make the worker post to
    an internal address: people's own URLs are chat services only (by default)."""
    response = post("viewer", URL, {"chat_url": "json://127.0.0.1:8000/admin/"})

    assert flashes(response) == [
        "A personal chat URL must use one of these services: slack, msteams, discord, tgram, "
        "gchat, matrixs, mmosts, rockets, zulip, ntfys."
    ]
    assert (
        not PersonalSettings.objects.filter(user=users["viewer"])
        .exclude(chat_url_encrypted="")
        .exists()
    )
