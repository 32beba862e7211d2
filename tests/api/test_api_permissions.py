"""Every API operation × every role × token scope, generated from the OpenAPI document:
an operation added to the API without a row here fails `test_every_write_has_a_row`.

Anonymous: 401. A user with no role: 403. A read token may read (every role) and never
write (403). A write token may do what the user's role may do on the pages
(tests/test_view_permissions.py), and nothing else (403). A report token (issue 17) may
only report external checks' results (as a release manager or admin), which no read or
write token may.
"""

import re

import pytest
from django.contrib.auth import get_user_model

from api.tokens import token_create
from tests.api.conftest import ApiClient, document
from tests.conftest import ROLE_USERS
from tests.drift_jobs.drift_job_factories import done_drift_job
from tests.promotion.factories import validated_candidate
from tests.validation_runs.factories import finished_run

pytestmark = pytest.mark.django_db


def failed_operation():
    """A finished candidate creation of the registered repository."""
    from releases.models import Operation, Repository

    return Operation.objects.create(
        repository=Repository.objects.get(name="pipeline"),
        kind="candidate_create",
        status="failed",
        error="There is no branch 'x' at the origin.",
    )


READERS = {"admin", "rm-ana", "analyst", "viewer"}
PATH_PARAMS = {
    "name": lambda: "pipeline",
    "pk": validated_candidate,
    "run_id": finished_run,
    "job_id": done_drift_job,
    "version": lambda: "1.0.0",
    "operation_id": lambda: failed_operation().pk,
    "check": lambda: "remote-run",
}
# operationId -> (who may, a body)
WRITES = {
    "repository_sync": ({"admin", "rm-ana"}, {}),
    "candidate_create": ({"admin", "rm-ana"}, {}),
    "candidate_approve": ({"admin", "rm-ana"}, {}),
    "candidate_reject": ({"admin", "rm-ana"}, {"reason": "not now"}),
    "candidate_promote": ({"admin", "rm-ana"}, {}),
    "validation_run_start": ({"admin", "rm-ana"}, {"ref": "development"}),
    "outcomes_record": (
        {"admin", "rm-ana"},
        {"rows": [{"target": "lr_ged_sb", "unit": 4, "month_id": 540, "value": 2.0}]},
    ),
    # Runs without predictions: allowed roles hear why not (409).
    "drift_job_start": (
        {"admin", "rm-ana", "analyst"},
        {"reference_run": finished_run, "current_run": finished_run},
    ),
    # A run without that external check, and another commit: allowed roles get 409.
    "check_result_report": ({"admin", "rm-ana"}, {"commit": "0000000", "status": "passed"}),
}
# Operations only a report token may call.
REPORTS = {"check_result_report"}
OPERATIONS = sorted(
    (method, template, operation["operationId"])
    for template, methods in document()["paths"].items()
    for method, operation in methods.items()
)
READS = [op for op in OPERATIONS if op[0] == "get"]
POSTS = [op for op in OPERATIONS if op[0] != "get"]


def url(template: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(PATH_PARAMS[m.group(1)]()), template)


def clients(username: str) -> dict[str, ApiClient]:
    user = get_user_model().objects.get(username=username)
    return {
        scope: ApiClient(token_create(user=user, name=f"matrix-{scope}", scope=scope))
        for scope in ("read", "write", "report")
    }


def test_every_write_has_a_row_and_every_path_parameter_a_value():
    assert sorted(op for _, _, op in POSTS) == sorted(WRITES)
    for _, template, _ in OPERATIONS:
        assert set(re.findall(r"\{(\w+)\}", template)) <= set(PATH_PARAMS), template


@pytest.mark.parametrize(("method", "template", "operation"), READS)
def test_reads_by_role_and_scope(registered, users, method, template, operation):
    target = url(template)
    assert ApiClient().get(target).status_code == 401
    for username in ROLE_USERS:
        for scope, client in clients(username).items():
            status = client.get(target).status_code
            expected = 200 if username in READERS and scope != "report" else 403
            assert status == expected, f"{operation} as {username} ({scope}): {status}"


@pytest.mark.parametrize(("method", "template", "operation"), POSTS)
def test_writes_by_role_and_scope(registered, users, method, template, operation):
    allowed, fields = WRITES[operation]
    body = {key: value() if callable(value) else value for key, value in fields.items()}
    target = url(template)
    assert ApiClient().post_json(target, body).status_code == 401
    for username in ROLE_USERS:
        by_scope = clients(username)
        status = by_scope["read"].post_json(target, body).status_code
        assert status == 403, f"{operation} as {username} (read token): {status}"
        wrong, right = ("write", "report") if operation in REPORTS else ("report", "write")
        status = by_scope[wrong].post_json(target, body).status_code
        assert status == 403, f"{operation} as {username} ({wrong} token): {status}"
        status = by_scope[right].post_json(target, body).status_code
        if username in allowed:
            # Allowed: it ran (2xx), or the candidate's state refused it (409).
            assert status in (200, 201, 202, 409), f"{operation} as {username}: {status}"
        else:
            assert status == 403, f"{operation} as {username} (write token): {status}"
