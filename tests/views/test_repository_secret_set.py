"""Set a secret: stored encrypted, never shown again, audited; refused with a reason."""

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

from monitoring.models import RepositorySecret
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db

VALUE = "a-long-enough-value-1234"


@pytest.fixture
def key(settings) -> str:
    settings.EWSDASH_SECRETS_KEY = Fernet.generate_key().decode()
    return settings.EWSDASH_SECRETS_KEY


def set_url() -> str:
    return reverse("repository_secret_set", kwargs={"name": "pipeline"})


def test_it_stores_the_secret_encrypted_and_audits_it(post, registered, key):
    response = post("admin", set_url(), {"name": "VIEWSER_TOKEN", "value": VALUE})

    assert response["Location"] == reverse("repository_secrets", kwargs={"name": "pipeline"})
    row = RepositorySecret.objects.get(repository=registered, name="VIEWSER_TOKEN")
    assert VALUE not in row.ciphertext
    assert Fernet(key).decrypt(row.ciphertext.encode()).decode() == VALUE
    assert (row.created_by.username, row.updated_by.username) == ("admin", "admin")
    (event,) = events("secret.created")
    assert event.actor_name == "admin" and event.payload == {"name": "VIEWSER_TOKEN"}
    assert VALUE not in str(event.payload)
    assert flashes(response) == ["Secret VIEWSER_TOKEN saved; its value is not shown again."]


def test_it_replaces_the_value_of_an_existing_name(post, registered, key):
    post("admin", set_url(), {"name": "VIEWSER_TOKEN", "value": VALUE})
    post("admin", set_url(), {"name": "VIEWSER_TOKEN", "value": "another-value-5678"})

    row = RepositorySecret.objects.get(repository=registered, name="VIEWSER_TOKEN")
    assert Fernet(key).decrypt(row.ciphertext.encode()).decode() == "another-value-5678"
    assert len(events("secret.updated")) == 1


def test_the_page_shows_the_name_and_never_the_value(post, login, registered, key):
    post("admin", set_url(), {"name": "VIEWSER_TOKEN", "value": VALUE})

    page = login("admin").get(reverse("repository_secrets", kwargs={"name": "pipeline"}))

    assert b"VIEWSER_TOKEN" in page.content
    assert VALUE.encode() not in page.content
    row = RepositorySecret.objects.get(name="VIEWSER_TOKEN")
    assert row.ciphertext.encode() not in page.content


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("viewser", VALUE, "upper-case letters"),
        ("PATH", VALUE, "PATH is set by ewsdash"),
        ("EWSDASH_X", VALUE, "is set by ewsdash"),
        ("SHORT_ONE", "1234567", "8 to 16384 characters"),
    ],
)
def test_it_refuses_a_bad_name_or_a_short_value(post, registered, key, name, value, reason):
    response = post("admin", set_url(), {"name": name, "value": value})

    assert RepositorySecret.objects.count() == 0
    assert reason in flashes(response)[0]
    assert events("secret.created") == []


def test_it_refuses_without_a_key(post, registered, settings):
    settings.EWSDASH_SECRETS_KEY = ""

    response = post("admin", set_url(), {"name": "VIEWSER_TOKEN", "value": VALUE})

    assert RepositorySecret.objects.count() == 0
    assert flashes(response)[0].startswith("No secrets key is configured")


def test_it_refuses_a_release_manager(post, registered, key):
    response = post("rm-ana", set_url(), {"name": "VIEWSER_TOKEN", "value": VALUE})

    assert response.status_code == 403
    assert RepositorySecret.objects.count() == 0
