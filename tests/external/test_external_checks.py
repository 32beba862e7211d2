"""External checks (issue 17): a result reported through the API by a report token, judged
like a sandboxed check's files, refused with the wrong scope, commit, or after the
deadline. Real git world, real run, real API requests; the checks that read the report's
files run in this process (`run_queued_inline`), as a worker would."""

from __future__ import annotations

import base64
import io
import json
from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.test import Client
from django.utils import timezone

from api.tokens import token_create
from monitoring import reaper, runs
from monitoring.artifacts import artifact_path
from monitoring.models import CheckResult, ModelMetric, ValidationRun
from releases.models import AuditEvent
from tests.validation_runs.conftest import commit_on, no_enqueue, run_queued_inline, toml

__all__ = ["no_enqueue"]

pytestmark = pytest.mark.django_db

MANIFEST = toml(
    """
    [[check]]
    name = "remote-run"
    kind = "external"
    predictions = "{artifacts}/*.parquet"
    metrics = "{artifacts}/metrics.json"
    deadline = "2h"

    [[check]]
    name = "remote-schema"
    kind = "schema"
    from = "remote-run"
    [check.columns]
    pred_ln_ged_sb = { type = "float", max_missing = 0.0 }
    """
)
METRICS = [{"model": "purple_alien", "target": "ged_sb", "metric": "MSE", "step": 1, "value": 0.5}]


def parquet(values: list[float | None]) -> bytes:
    table = pa.table({"country_id": list(range(1, len(values) + 1)), "pred_ln_ged_sb": values})
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


@pytest.fixture
def started(registered, world, no_enqueue) -> ValidationRun:
    sha = commit_on(world, "development", "ci: external", {"ewsdash.toml": MANIFEST})
    return runs.validation_run_start(
        repository=registered, commit=sha, actor="test", purpose="manual"
    )


def client(users, username: str = "rm-ana", scope: str = "report") -> Client:
    token = token_create(user=users[username], name=f"ci-{scope}", scope=scope)
    return Client(headers={"Authorization": f"Bearer {token}"})


def result_url(run: ValidationRun, check: str = "remote-run") -> str:
    return f"/api/v1/repositories/pipeline/validation-runs/{run.pk}/checks/{check}/result"


def report(run: ValidationRun, **fields) -> dict:
    body = {
        "commit": run.commit,
        "status": "passed",
        "summary": "ran on the cluster",
        "log": "epoch 1\nepoch 2\n",
        "files": [
            {
                "name": "fc.parquet",
                "content_base64": base64.b64encode(parquet([0.1, 0.2])).decode(),
            },
            {
                "name": "metrics.json",
                "content_base64": base64.b64encode(json.dumps(METRICS).encode()).decode(),
            },
        ],
    }
    body.update(fields)
    return body


def post(c: Client, run: ValidationRun, body: dict, check: str = "remote-run"):
    return c.post(result_url(run, check), json.dumps(body), content_type="application/json")


def remote(run: ValidationRun) -> CheckResult:
    return CheckResult.objects.get(run=run, name="remote-run")


def test_the_external_check_waits_for_its_report_with_a_deadline(started):
    check = remote(started)
    assert check.status == "running"
    assert check.deadline_at is not None
    assert timedelta(minutes=119) < check.deadline_at - timezone.now() <= timedelta(hours=2)
    assert "waiting for its result" in check.progress
    assert CheckResult.objects.get(run=started, name="remote-schema").status == "waiting"
    started.refresh_from_db()
    assert started.status == "running" and started.started_at is not None


def test_a_result_reported_by_token_is_accepted_stored_and_judged(started, users):
    response = post(client(users), started, report(started))

    assert response.status_code == 201, response.content
    assert response.json()["status"] == "passed"
    check = remote(started)
    assert check.status == "passed"
    assert check.summary == "reported passed: ran on the cluster"
    assert check.log == "epoch 1\nepoch 2\n"
    stored = {use.name: use for use in check.artifacts.select_related("artifact")}
    assert set(stored) == {"fc.parquet", "metrics.json"}
    assert stored["fc.parquet"].kind == "predictions"
    assert stored["metrics.json"].kind == "metrics"
    assert artifact_path(stored["fc.parquet"].artifact.sha256).read_bytes() == parquet([0.1, 0.2])
    assert list(ModelMetric.objects.filter(check_result=check).values_list("metric", "value")) == [
        ("MSE", 0.5)
    ]
    (event,) = AuditEvent.objects.filter(action="validation.external_reported")
    assert event.actor_name == "rm-ana"
    assert event.payload["check"] == "remote-run" and event.payload["commit"] == started.commit
    assert event.payload["via"].startswith("api token")
    # The schema check reads the uploaded files like a sandboxed check's, and passes.
    run_queued_inline(started)
    started.refresh_from_db()
    assert CheckResult.objects.get(run=started, name="remote-schema").status == "passed"
    assert started.status == "passed"


def test_the_uploaded_files_get_the_same_judging(started, users):
    broken = base64.b64encode(parquet([0.1, None])).decode()
    body = report(started, files=[{"name": "fc.parquet", "content_base64": broken}])
    body["files"].append(report(started)["files"][1])

    assert post(client(users), started, body).status_code == 201
    run_queued_inline(started)

    schema = CheckResult.objects.get(run=started, name="remote-schema")
    assert schema.status == "failed"
    assert "pred_ln_ged_sb" in schema.summary
    started.refresh_from_db()
    assert started.status == "failed"


def test_a_report_without_the_declared_files_fails(started, users):
    response = post(client(users), started, report(started, files=[]))

    assert response.status_code == 201
    check = remote(started)
    assert check.status == "failed"
    assert check.summary.startswith("reported passed, but no uploaded file matches predictions")


def test_a_multipart_report_is_accepted(started, users):
    fc = io.BytesIO(parquet([0.3, 0.4]))
    fc.name = "fc.parquet"
    metrics = io.BytesIO(json.dumps(METRICS).encode())
    metrics.name = "metrics.json"
    log = io.BytesIO(b"from a file\n")
    log.name = "run.log"

    response = client(users).post(
        result_url(started),
        {
            "commit": started.commit[:12],
            "status": "failed",
            "summary": "MSE too high",
            "predictions": [fc],
            "metrics": [metrics],
            "log": log,
        },
    )

    assert response.status_code == 201, response.content
    check = remote(started)
    assert (check.status, check.summary, check.log) == (
        "failed",
        "reported failed: MSE too high",
        "from a file\n",
    )
    assert set(check.artifacts.values_list("name", flat=True)) == {"fc.parquet", "metrics.json"}


def test_a_write_token_is_refused(started, users):
    response = post(client(users, scope="write"), started, report(started))

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "report scope" in response.json()["detail"]
    assert remote(started).status == "running"


def test_a_report_token_may_do_nothing_else(started, users):
    response = client(users).get("/api/v1/repositories/pipeline/runs")

    assert response.status_code == 403
    assert "only report" in response.json()["detail"]


def test_a_report_token_of_a_viewer_is_refused(started, users):
    assert post(client(users, "viewer"), started, report(started)).status_code == 403
    assert remote(started).status == "running"


def test_the_wrong_commit_is_refused(started, users):
    response = post(client(users), started, report(started, commit="f" * 40))

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert "is bound to the commit" in response.json()["detail"]
    assert remote(started).status == "running"


def test_a_second_report_is_refused(started, users):
    reporter = client(users)
    assert post(reporter, started, report(started)).status_code == 201

    again = post(reporter, started, report(started, status="failed"))

    assert again.status_code == 409
    assert "already has its result (passed)" in again.json()["detail"]
    assert remote(started).status == "passed"


def test_a_file_name_leaving_the_folder_is_refused(started, users):
    bad = [{"name": "../../etc/x", "content_base64": "aGk="}]
    response = post(client(users), started, report(started, files=bad))

    assert response.status_code == 409
    assert remote(started).status == "running"


def test_a_missing_result_times_out_at_the_deadline_then_a_report_is_refused(started, users):
    CheckResult.objects.filter(run=started, name="remote-run").update(
        deadline_at=timezone.now() - timedelta(seconds=1)
    )

    outcome = reaper.validation_reap_stale(heartbeat_timeout=60)

    check = remote(started)
    assert outcome.timed_out == [check.pk]
    assert check.status == "timed_out"
    assert "no result was reported by its deadline" in check.summary
    started.refresh_from_db()
    # The check that would have read its files is skipped, which fails the run.
    assert CheckResult.objects.get(run=started, name="remote-schema").status == "skipped"
    assert started.is_finished and started.status == "failed"
    assert AuditEvent.objects.filter(action="validation.check_timed_out").count() == 1
    response = post(client(users), started, report(started))
    assert response.status_code == 409
    assert "timed out" in response.json()["detail"]


def test_a_report_after_the_deadline_is_refused_before_the_reaper_ran(started, users):
    CheckResult.objects.filter(run=started, name="remote-run").update(
        deadline_at=timezone.now() - timedelta(seconds=1)
    )

    response = post(client(users), started, report(started))

    assert response.status_code == 409
    assert remote(started).status == "timed_out"


def test_cancelling_the_run_cancels_the_waiting_check(started):
    runs.validation_run_cancel(run=started, actor="test")

    assert remote(started).status == "cancelled"
    started.refresh_from_db()
    assert started.status == "cancelled"


def test_a_report_that_does_not_match_the_schema_is_a_400(started, users):
    response = post(client(users), started, report(started, status="great"))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert remote(started).status == "running"


def test_a_report_for_a_check_that_is_not_external_is_refused(started, users):
    response = post(client(users), started, report(started), check="remote-schema")

    assert response.status_code == 409
    assert "not an external one" in response.json()["detail"]
