"""Every API operation × every role × token scope, generated from the OpenAPI document:
an operation added to the API without a row here fails `test_every_write_has_a_row`.

Anonymous: 401. A user with no role: 403. A read token may read (every role) and never
write (403). A write token may do what the user's role may do on the pages
(tests/test_view_permissions.py), and nothing else (403).
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

READERS = {"admin", "rm-ana", "analyst", "viewer"}
PATH_PARAMS = {
    "name": lambda: "pipeline",
    "pk": validated_candidate,
    "run_id": finished_run,
    "job_id": done_drift_job,
    "version": lambda: "1.0.0",
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
}
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
        for scope in ("read", "write")
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
            expected = 200 if username in READERS else 403
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
        status = by_scope["write"].post_json(target, body).status_code
        if username in allowed:
            # Allowed: it ran (2xx), or the candidate's state refused it (409).
            assert status in (200, 201, 202, 409), f"{operation} as {username}: {status}"
        else:
            assert status == 403, f"{operation} as {username} (write token): {status}"
