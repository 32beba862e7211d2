"""Delete a secret: gone, audited; checks that name it then end in error."""

import pytest
from cryptography.fernet import Fernet
from django.urls import reverse

from monitoring import check_secrets
from monitoring.models import RepositorySecret
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret(registered, users, settings) -> RepositorySecret:
    settings.EWSDASH_SECRETS_KEY = Fernet.generate_key().decode()
    return check_secrets.secret_set(
        repository=registered, name="VIEWSER_TOKEN", value="value-12345678", actor=users["admin"]
    )


def delete_url(secret: RepositorySecret) -> str:
    return reverse("repository_secret_delete", kwargs={"name": "pipeline", "pk": secret.pk})


def test_it_deletes_the_secret_and_audits_it(post, secret):
    response = post("admin", delete_url(secret))

    assert response["Location"] == reverse("repository_secrets", kwargs={"name": "pipeline"})
    assert not RepositorySecret.objects.filter(pk=secret.pk).exists()
    (event,) = events("secret.deleted")
    assert event.actor_name == "admin" and event.payload == {"name": "VIEWSER_TOKEN"}
    assert flashes(response) == ["Secret VIEWSER_TOKEN deleted."]


def test_it_refuses_a_release_manager(post, secret):
    assert post("rm-ana", delete_url(secret)).status_code == 403
    assert RepositorySecret.objects.filter(pk=secret.pk).exists()
    assert events("secret.deleted") == []
