"""Webhooks in: signed, schema-checked, taken once, and a sync queued."""

import json
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from api.models import WebhookDelivery
from releases.models import AuditEvent
from tests.api import webhook_payloads as p
from tests.support.queued import enqueued

pytestmark = pytest.mark.django_db


class Queued:
    """Work queued on commit since the fixture was made (the test's transaction never
    commits, so nothing is sent)."""

    def __init__(self) -> None:
        self.start = len(connection.run_on_commit)

    def __len__(self) -> int:
        return len(enqueued(func for _, func, _ in connection.run_on_commit[self.start :]))


@pytest.fixture
def hooked(registered):
    return Queued()


def sync_requests() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="repository.sync_requested").order_by("seq"))


@pytest.mark.parametrize(
    ("event", "payload", "ref"),
    [
        ("push", p.push(), "refs/heads/development"),
        ("create", p.ref_change(), "hotfix/1.0.1"),
        ("delete", p.ref_delete(), "v1.0.0"),
        ("pull_request", p.pull_request(), "ewsdash/candidate-1"),
    ],
)
def test_a_signed_github_event_queues_a_sync(client: Client, hooked, event, payload, ref):
    response = p.post_github(client, event, payload, delivery="d-1")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert len(hooked) == 1
    [audit] = sync_requests()
    assert audit.actor_name == "github webhook" and audit.actor is None
    assert audit.payload == {"event": event, "ref": ref, "delivery": "d-1"}


def test_a_review_of_a_candidates_pull_request_queues_its_gates(
    client: Client, registered, users, monkeypatch, django_capture_on_commit_callbacks
):
    from ewsdash import queue
    from releases import candidates
    from releases.models import PromotionCandidate

    candidate = candidates.candidate_create(repository=registered, actor=users["rm-ana"])
    PromotionCandidate.objects.filter(pk=candidate.pk).update(forge_pull_request=7)
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(queue, "enqueue", lambda task, **kw: sent.append((task, kw)))
    with django_capture_on_commit_callbacks(execute=True):
        response = p.post_github(
            client, "pull_request_review", p.pull_request_review(number=7), delivery="r-1"
        )
    assert response.status_code == 202
    assert [task for task, _ in sent] == [queue.REPOSITORY_SYNC, queue.CANDIDATE_GATES_PUBLISH]
    assert sent[1][1]["candidate_id"] == candidate.pk
    [audit] = sync_requests()
    assert audit.payload["event"] == "pull_request_review"


def test_a_replayed_delivery_is_ignored(client: Client, hooked):
    first = p.post_github(client, "push", p.push(), delivery="same")
    again = p.post_github(client, "push", p.push(), delivery="same")
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["status"] == "duplicate"
    assert len(hooked) == 1 and len(sync_requests()) == 1


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha1=abc"])
def test_a_bad_signature_is_401_and_changes_nothing(client: Client, hooked, signature):
    response = p.post_github(client, "push", p.push(), signature=signature)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert not hooked and not sync_requests() and not WebhookDelivery.objects.exists()


def test_another_repositorys_secret_does_not_sign(client: Client, hooked):
    body = json.dumps(p.push()).encode()
    from api.signatures import github_signature

    forged = github_signature(p.secret("other"), body)
    assert p.post_github(client, "push", body, signature=forged).status_code == 401


def test_a_tampered_body_is_401(client: Client, hooked):
    body = json.dumps(p.push()).encode()
    from api.signatures import github_signature

    signature = github_signature(p.secret(), body)
    tampered = body.replace(b"development", b"production!")
    assert p.post_github(client, "push", tampered, signature=signature).status_code == 401


def test_a_payload_off_the_schema_is_400(client: Client, hooked):
    payload = p.push()
    del payload["after"]
    response = p.post_github(client, "push", payload)
    assert response.status_code == 400
    assert response.json()["errors"][0]["loc"] == ["after"]
    assert not hooked


def test_ping_answers_and_other_events_are_ignored(client: Client, hooked):
    pong = p.post_github(client, "ping", p.ping())
    assert pong.status_code == 200 and pong.json()["status"] == "pong"
    ignored = p.post_github(client, "issues", {"action": "opened"})  # not acted on: any body
    assert ignored.status_code == 200 and ignored.json()["status"] == "ignored"
    assert not hooked


def test_an_unknown_repository_is_404_once_signed(client: Client, hooked):
    response = p.post_github(client, "push", p.push(), name="nope")
    assert response.status_code == 404


def test_a_hook_refuses_get(client: Client, registered):
    assert client.get("/hooks/github/pipeline/").status_code == 405
    assert client.get("/hooks/git/pipeline/").status_code == 405


def test_the_generic_hook_queues_a_sync(client: Client, hooked):
    response = p.post_git(client, {"event": "push", "ref": "refs/heads/development"})
    assert response.status_code == 202
    [audit] = sync_requests()
    assert audit.actor_name == "git webhook"


def test_the_generic_hook_refuses_an_old_or_future_timestamp(client: Client, hooked):
    for skew in (-301, 301):
        stamp = int(time.time()) + skew
        response = p.post_git(client, {"event": "push", "ref": "x"}, timestamp=stamp)
        assert response.status_code == 401
    assert not hooked


def test_the_generic_hook_signs_its_delivery_id(client: Client, hooked):
    body = json.dumps({"event": "push", "ref": "x"}).encode()
    stamp = str(int(time.time()))
    from api.signatures import generic_signature

    signature = generic_signature(p.secret(), timestamp=stamp, delivery="one", body=body)
    response = p.post_git(client, body, delivery="two", timestamp=int(stamp), signature=signature)
    assert response.status_code == 401


def test_the_generic_hook_ignores_a_replay_and_checks_its_schema(client: Client, hooked):
    payload = {"event": "push", "ref": "refs/heads/development"}
    assert p.post_git(client, payload, delivery="x1").status_code == 202
    assert p.post_git(client, payload, delivery="x1").json()["status"] == "duplicate"
    assert p.post_git(client, {"event": "rename", "ref": "x"}).status_code == 400
    assert p.post_git(client, {"event": "push", "ref": "x", "extra": 1}).status_code == 400
    assert len(hooked) == 1


def test_the_command_prints_the_secret_that_signs(client: Client, hooked):
    out = StringIO()
    call_command("webhook", "secret", "pipeline", stdout=out)
    assert out.getvalue().strip() == p.secret()


def test_an_empty_ping_as_githubs_schema_allows_is_answered(client: Client, hooked):
    assert p.github_payload("ping") == {}
    assert p.post_github(client, "ping", {}).json()["status"] == "pong"


def test_a_push_of_a_new_branch_and_a_deletion_are_taken(client: Client, hooked):
    zeros = "0" * 40
    created = p.github_payload("push", ref="refs/heads/feature/x", before=zeros, after=p.SHA_B)
    deleted = p.github_payload("push", ref="refs/heads/feature/x", before=p.SHA_B, after=zeros)
    assert p.post_github(client, "push", created).status_code == 202
    assert p.post_github(client, "push", deleted).status_code == 202


# The README's lines, word for word.
RECIPE = (
    'printf \'%s.%s.%s\' "$TS" "$ID" "$BODY" '
    "| openssl dgst -sha256 -hmac \"$SECRET\" -r | cut -d' ' -f1"
)


def test_the_readmes_shell_recipe_signs_like_ewsdash():
    """README, "Webhooks in": printf + openssl make the signature the generic hook checks."""
    import subprocess

    from api.signatures import generic_signature

    body, stamp, delivery = (
        '{"event": "push", "ref": "refs/heads/development"}',
        "1767225600",
        "id-1",
    )
    digest = subprocess.run(
        [
            "bash",
            "-c",
            RECIPE,
        ],
        env={
            "TS": stamp,
            "ID": delivery,
            "BODY": body,
            "SECRET": p.secret(),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    expected = generic_signature(p.secret(), timestamp=stamp, delivery=delivery, body=body.encode())
    assert f"sha256={digest}" == expected
