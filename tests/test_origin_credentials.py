"""A token in an origin URL is kept where git needs it (the repository row, the clone's
config) and redacted everywhere it is shown, stored for people or printed."""

import io
import json
import shutil

import pytest
from django.core.management import call_command
from django.urls import reverse

from releases import git, services, sync
from releases.clones import clone_dir
from releases.errors import ActionRefused
from releases.models import AuditEvent, Repository
from releases.redaction import redact_credentials
from releases.selectors import repository_status

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-t0ken"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"https://user:{SECRET}@git.example.org/p.git", "https://user:***@git.example.org/p.git"),
        (f"https://{SECRET}@git.example.org/p.git", "https://***@git.example.org/p.git"),
        ("ssh://git@git.example.org/p.git", "ssh://git@git.example.org/p.git"),
        (f"ssh://git:{SECRET}@host/p.git", "ssh://git:***@host/p.git"),
        (
            f"fatal: unable to access 'https://u:{SECRET}@h/p.git/': 403",
            "fatal: unable to access 'https://u:***@h/p.git/': 403",
        ),
        ("/srv/git/p.git", "/srv/git/p.git"),
    ],
)
def test_redaction(text, shown):
    assert redact_credentials(text) == shown


@pytest.fixture
def tokened(registered):
    """The registered repository, as if its origin carried a token (git would use it)."""
    Repository.objects.filter(pk=registered.pk).update(
        origin=f"https://ci:{SECRET}@127.0.0.1:9/pipeline.git"
    )
    registered.refresh_from_db()
    return registered


def test_pages_admin_and_status_never_show_the_token(tokened, login):
    admin = login("admin")
    for address in (
        reverse("repository_overview", kwargs={"name": "pipeline"}),
        "/admin/releases/repository/",
        f"/admin/releases/repository/{tokened.pk}/change/",
    ):
        page = admin.get(address)
        assert page.status_code == 200, address
        assert SECRET.encode() not in page.content, address
        assert b"ci:***@127.0.0.1:9" in page.content, address
    status = repository_status(repository=tokened)
    assert SECRET not in json.dumps(status)


def test_a_failing_registration_neither_shows_nor_audits_the_token(db):
    # Nothing listens on port 9 of 127.0.0.1: git fails at once, naming the URL.
    with pytest.raises(ActionRefused) as refused:
        services.repository_create(
            actor="test", name="tokened", origin=f"https://ci:{SECRET}@127.0.0.1:9/p.git"
        )
    assert SECRET not in str(refused.value)
    assert "ci:***@127.0.0.1" in str(refused.value)


def test_git_errors_never_carry_the_token():
    error = git.GitError(f"fatal: could not read from 'https://u:{SECRET}@h/p.git'")
    assert SECRET not in str(error)


def test_the_sync_error_kept_on_the_repository_is_redacted(tokened):
    # Without its cache clone the sync clones again from the (unreachable) tokened URL.
    shutil.rmtree(clone_dir("pipeline"))
    outcome = sync.repository_sync(repository=tokened, force=True)
    tokened.refresh_from_db()
    assert outcome.error
    assert SECRET not in outcome.error and SECRET not in tokened.last_sync_error
    failed = AuditEvent.objects.filter(action="repository.sync_failed").first()
    if failed is not None:
        assert SECRET not in json.dumps(failed.payload)
    out = io.StringIO()
    call_command("repo", "status", "pipeline", "--json", stdout=out)
    assert SECRET not in out.getvalue()
