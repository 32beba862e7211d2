"""Lists page as {"count", "next", "results"} in a bounded number of queries; details."""

import pytest

from api.tokens import token_create
from monitoring.artifacts import artifact_store
from monitoring.models import CheckArtifact
from releases.models import AuditEvent, Branch
from tests.api.conftest import ApiClient
from tests.drift_jobs.drift_job_factories import make_drift_job, runs_with_predictions
from tests.promotion.factories import make_candidate
from tests.support.queued import enqueued
from tests.validation_runs.factories import make_run

pytestmark = pytest.mark.django_db
REPO = "/api/v1/repositories/pipeline"
LISTS = [
    "/api/v1/repositories",
    f"{REPO}/branches",
    f"{REPO}/releases",
    f"{REPO}/candidates",
    f"{REPO}/runs",
    f"{REPO}/drift-jobs",
    "/api/v1/audit-events",
]


@pytest.fixture
def reader(registered, users):
    return ApiClient(token_create(user=users["viewer"], name="reader"))


@pytest.fixture
def busy(registered):
    """A few rows of everything, so lists have something to page through."""
    for _ in range(3):
        make_run(status="passed", checks=3)
    make_candidate()
    make_drift_job(results=4)


@pytest.mark.parametrize("url", LISTS)
def test_every_list_pages_in_at_most_12_queries(reader, busy, url, django_assert_max_num_queries):
    reader.get(url)  # the token's first use writes its last use; measure the steady state
    with django_assert_max_num_queries(12):
        response = reader.get(url, {"limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "results"}
    assert len(body["results"]) == min(2, body["count"])
    if body["count"] > 2:
        assert body["next"].startswith("http://testserver" + url)
        assert "offset=2" in body["next"] and "limit=2" in body["next"]


def test_next_walks_the_whole_list(reader, busy):
    live = Branch.objects.filter(gone_at__isnull=True).count()
    seen, url = [], f"{REPO}/branches?limit=1"
    while url:
        body = reader.get(url.removeprefix("http://testserver")).json()
        seen += [b["name"] for b in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == live
    assert seen[:2] == ["production", "development"]


def test_a_limit_past_the_bound_is_400(reader):
    response = reader.get(f"{REPO}/branches", {"limit": 1000})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_a_repository_reads_as_on_its_page(reader, registered):
    body = reader.get(REPO).json()
    assert body["name"] == "pipeline"
    assert body["production_branch"] == registered.production_branch


def test_a_release_detail_takes_its_version_with_or_without_v(reader, registered):
    assert reader.get(f"{REPO}/releases/1.0.0").json()["tag"] == "v1.0.0"
    assert reader.get(f"{REPO}/releases/v1.0.0").json()["version"] == "1.0.0"
    assert reader.get(f"{REPO}/releases/9.9.9").status_code == 404


def test_a_run_detail_lists_its_checks_and_artifacts(reader, registered, tmp_path):
    run = make_run(status="passed", checks=2)
    check = run.checks.get(position=0)
    path = tmp_path / "metrics.json"
    path.write_text('{"mse": 1.0}')
    artifact = artifact_store(path)
    CheckArtifact.objects.create(
        check_result=check, artifact=artifact, name="metrics.json", kind="metrics"
    )
    body = reader.get(f"{REPO}/runs/{run.pk}").json()
    assert [c["name"] for c in body["checks"]] == ["check-0", "check-1"]
    assert body["checks"][0]["artifacts"] == [
        {
            "name": "metrics.json",
            "kind": "metrics",
            "sha256": artifact.sha256,
            "size": artifact.size,
            "rows": None,
        }
    ]
    assert reader.get(f"{REPO}/runs/999999").status_code == 404


def test_a_drift_job_detail_lists_its_results(reader, registered):
    job = make_drift_job(results=3)
    body = reader.get(f"{REPO}/drift-jobs/{job.pk}").json()
    assert body["id"] == job.pk and len(body["results"]) == 3
    assert {"column", "drifted", "ks_p_value"} <= set(body["results"][0])


def test_audit_events_filter_by_repository_and_action(reader, registered):
    body = reader.get("/api/v1/audit-events", {"action": "repository"}).json()
    assert body["count"] == AuditEvent.objects.filter(action__startswith="repository.").count()
    assert all(e["action"].startswith("repository.") for e in body["results"])


def test_sync_is_queued_and_audited_as_the_tokens_user(
    api_client, registered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api_client("rm-ana").post_json(f"{REPO}/sync")
    assert response.status_code == 202
    assert len(enqueued(queued)) == 1
    event = AuditEvent.objects.get(action="repository.sync_requested")
    assert event.actor_name == "rm-ana" and event.payload["via"].startswith("api token")


def test_a_run_is_started_for_a_ref(api_client, registered, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = api_client("rm-ana").post_json(f"{REPO}/runs", {"ref": "development"})
    assert response.status_code == 201, response.content
    body = response.json()
    head = Branch.objects.get(name="development").head
    assert body["commit"] == head
    # The basic world declares no validation: the run says so, without checks.
    assert body["status"] == "error" and body["checks"] == []


def test_a_run_for_an_unknown_ref_is_a_conflict(api_client, registered):
    response = api_client("rm-ana").post_json(f"{REPO}/runs", {"ref": "no-such-branch"})
    assert response.status_code == 409


def test_a_drift_job_is_started_and_audited_as_the_tokens_user(
    api_client, registered, django_capture_on_commit_callbacks
):
    reference, current = runs_with_predictions()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = api_client("analyst").post_json(
            f"{REPO}/drift-jobs",
            {"reference_run": reference.pk, "current_run": current.pk, "models": ["orange_pasta"]},
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "queued" and body["models"] == ["orange_pasta"]
    assert body["parts_total"] >= 1 and len(enqueued(queued)) == 1
    event = AuditEvent.objects.get(action="drift_job_start")
    assert event.actor_name == "analyst" and event.payload["via"].startswith("api token")


def test_a_drift_job_needs_runs_of_the_repository(api_client, registered):
    response = api_client("analyst").post_json(
        f"{REPO}/drift-jobs", {"reference_run": 999999, "current_run": 999999}
    )
    assert response.status_code == 400
