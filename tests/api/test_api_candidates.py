"""Candidates through the API: the same services, gate predicates and audit as the pages."""

import pytest

from releases import candidates, operation_runner, services, sync
from releases.gates import approve_refusal, gate_facts, gates, promote_refusal
from releases.models import AuditEvent, PromotionCandidate
from tests.promotion.conftest import make_promotable
from tests.support.queued import enqueued

pytestmark = pytest.mark.django_db
BASE = "/api/v1/repositories/pipeline/candidates"


@pytest.fixture
def repo(world, users):
    make_promotable(world)
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    sync.repository_sync(repository=repository)
    return repository


@pytest.fixture
def created(repo, api_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = api_client("rm-ana").post_json(BASE, {})
    assert response.status_code == 202, response.content
    operation_runner.operation_run(operation_id=response.json()["id"])
    body = (
        api_client("viewer", "read")
        .get(f"/api/v1/repositories/pipeline/operations/{response.json()['id']}")
        .json()
    )
    assert body["status"] == "succeeded", body
    return PromotionCandidate.objects.get(pk=body["candidate"])


def test_creating_returns_the_queued_operation_at_once(
    repo, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api_client("rm-ana").post_json(BASE, {"source": "development"})
    assert response.status_code == 202
    body = response.json()
    assert (body["kind"], body["status"], body["candidate"]) == ("candidate_create", "queued", None)
    assert body["params"] == {"source": "development", "version": ""}
    assert len(enqueued(callbacks)) == 1
    assert not PromotionCandidate.objects.exists()


@pytest.fixture
def validated(created, users):
    candidates.candidate_waive_validation(
        candidate=created, actor=users["admin"], reason="no manifest in this test repository"
    )
    created.refresh_from_db()
    return created


def test_it_creates_a_candidate_as_the_tokens_user_and_audits_it(created):
    assert created.created_by.username == "rm-ana"
    # This repository declares no validation: the run fails at once ("no validation declared").
    assert created.status == "validation_failed"
    assert AuditEvent.objects.get(action="candidate.created").actor_name == "rm-ana"
    # The request recorded the intent; the worker created it on the same person's behalf.
    event = AuditEvent.objects.get(action="operation.queued")
    assert event.actor_name == "rm-ana"
    assert event.payload["via"].startswith("api token test-")


def test_the_detail_shows_the_pages_gates(api_client, validated):
    body = api_client("viewer", "read").get(f"{BASE}/{validated.pk}").json()
    expected = gates(gate_facts(candidate=validated))
    assert [(g["key"], g["ok"], g["detail"]) for g in body["gates"]] == [
        (g.key, g.ok, g.detail) for g in expected
    ]
    assert body["ready"] is False
    assert body["required_approvals"] == 2 and body["live_approvals"] == 0


def test_its_creator_may_not_approve_and_hears_the_pages_reason(api_client, validated, users):
    response = api_client("rm-ana").post_json(f"{BASE}/{validated.pk}/approve", {})
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    facts = gate_facts(candidate=validated)
    assert response.json()["detail"] == approve_refusal(validated, users["rm-ana"], facts)


def test_two_approvals_approve_it(api_client, validated):
    first = api_client("rm-ben").post_json(f"{BASE}/{validated.pk}/approve", {"comment": "ok"})
    assert first.status_code == 200
    assert first.json()["live_approvals"] == 1 and first.json()["status"] == "validated"
    second = api_client("admin").post_json(f"{BASE}/{validated.pk}/approve", {})
    assert second.json()["status"] == "approved"
    assert [g["ok"] for g in second.json()["gates"] if g["key"] == "approvals"] == [True]
    approvals = AuditEvent.objects.filter(action="candidate.approval").order_by("seq")
    assert [e.actor_name for e in approvals] == ["rm-ben", "admin"]
    assert all(e.payload["via"].startswith("api token") for e in approvals)


def test_deciding_twice_is_a_conflict(api_client, validated):
    client = api_client("rm-ben")
    assert client.post_json(f"{BASE}/{validated.pk}/approve", {}).status_code == 200
    again = client.post_json(f"{BASE}/{validated.pk}/approve", {})
    assert again.status_code == 409
    assert again.json()["detail"] == "You have already decided on this candidate."


def test_a_rejection_needs_a_reason(api_client, validated):
    response = api_client("rm-ben").post_json(f"{BASE}/{validated.pk}/reject", {"reason": ""})
    assert response.status_code == 400
    assert response.json()["errors"]
    validated.refresh_from_db()
    assert validated.status == "validated"


def test_a_rejection_ends_it(api_client, validated):
    response = api_client("rm-ben").post_json(
        f"{BASE}/{validated.pk}/reject", {"reason": "drift too high"}
    )
    assert response.status_code == 200 and response.json()["status"] == "rejected"


def test_promote_is_refused_while_a_gate_fails(api_client, validated, users):
    response = api_client("rm-ben").post_json(f"{BASE}/{validated.pk}/promote", {})
    assert response.status_code == 409
    refusal = promote_refusal(validated, users["rm-ben"], gate_facts(candidate=validated))
    assert response.json()["detail"] == refusal


def test_promote_queues_the_promotion_once_approved(
    api_client, validated, users, django_capture_on_commit_callbacks
):
    candidates.candidate_approve(candidate=validated, actor=users["rm-ben"])
    candidates.candidate_approve(candidate=validated, actor=users["admin"])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api_client("rm-ben").post_json(f"{BASE}/{validated.pk}/promote", {})
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "promoting"
    assert len(enqueued(queued)) == 1
    assert AuditEvent.objects.get(action="candidate.promoting").actor_name == "rm-ben"


def test_a_read_token_may_not_approve(api_client, validated):
    response = api_client("rm-ben", "read").post_json(f"{BASE}/{validated.pk}/approve", {})
    assert response.status_code == 403
    assert "only read" in response.json()["detail"]


def test_an_analyst_may_not_approve(api_client, validated):
    response = api_client("analyst").post_json(f"{BASE}/{validated.pk}/approve", {})
    assert response.status_code == 403
    assert "approve candidate" in response.json()["detail"]


def test_an_unknown_candidate_or_repository_is_404(api_client, repo):
    client = api_client("viewer", "read")
    assert client.get(f"{BASE}/999").status_code == 404
    assert client.get("/api/v1/repositories/nope/candidates").status_code == 404


def test_a_malformed_body_is_400(api_client, repo):
    response = api_client("rm-ana").post(BASE, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
