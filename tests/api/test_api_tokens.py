"""Personal tokens: printed once, stored hashed, revocable, scoped, last use recorded."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from api.models import ApiToken
from releases.models import AuditEvent
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db


def create(username: str, name: str, *scope: str) -> str:
    out = StringIO()
    call_command("token", "create", username, "--name", name, *scope, stdout=out)
    return out.getvalue().strip().splitlines()[-1].split()[-1]


def test_the_command_prints_a_token_that_works(users, registered):
    token = create("viewer", "ci")
    response = ApiClient(token).get("/api/v1/repositories")
    assert response.status_code == 200
    assert response.json()["results"][0]["name"] == "pipeline"


def test_only_a_digest_is_stored(users):
    token = create("viewer", "ci")
    row = ApiToken.objects.get(name="ci")
    assert token not in (row.digest, row.prefix) and len(row.digest) == 64
    assert token.startswith(f"ews_{row.prefix}_")
    event = AuditEvent.objects.get(action="token.created")
    assert token not in str(event.payload) and token not in event.object_repr


def test_a_revoked_token_is_refused(users, registered):
    token = create("viewer", "ci")
    call_command("token", "revoke", "viewer", "ci", stdout=StringIO())
    assert ApiClient(token).get("/api/v1/repositories").status_code == 401
    assert AuditEvent.objects.filter(action="token.revoked").count() == 1


def test_a_wrong_or_malformed_token_is_refused(users, registered):
    token = create("viewer", "ci")
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "ews_nope", "x", token + "x"):
        assert ApiClient(bad).get("/api/v1/repositories").status_code == 401, bad


def test_an_inactive_users_token_is_refused(users, registered):
    token = create("viewer", "ci")
    users["viewer"].is_active = False
    users["viewer"].save()
    assert ApiClient(token).get("/api/v1/repositories").status_code == 401


def test_the_last_use_is_shown(users, registered):
    token = create("viewer", "ci")
    ApiClient(token).get("/api/v1/repositories")
    assert ApiToken.objects.get(name="ci").last_used_at is not None
    out = StringIO()
    call_command("token", "list", "viewer", stdout=out)
    line = out.getvalue().strip()
    assert line.startswith("ci\tread\tews_") and "live" in line and "last used never" not in line


def test_a_read_token_may_not_write_but_a_write_token_may(
    users, registered, django_capture_on_commit_callbacks
):
    read, write = create("rm-ana", "r"), create("rm-ana", "w", "--scope", "write")
    url = "/api/v1/repositories/pipeline/sync"
    assert ApiClient(read).post_json(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=False):
        assert ApiClient(write).post_json(url).status_code == 202


def test_a_live_name_is_unique_per_user_and_free_again_once_revoked(users):
    create("viewer", "ci")
    with pytest.raises(CommandError, match="already has a live token"):
        create("viewer", "ci")
    call_command("token", "revoke", "viewer", "ci", stdout=StringIO())
    create("viewer", "ci")


def test_an_unknown_user_is_an_error(users):
    with pytest.raises(CommandError, match="no user"):
        create("nobody", "ci")
