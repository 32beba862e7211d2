"""Every view × every role: allowed, forbidden, or (anonymous) sent to sign in.

Adding a page to PAGES or an action to ACTIONS adds its permission tests.
"""

import pytest
from django.urls import reverse

from tests.conftest import ROLE_USERS
from tests.drift_jobs.drift_job_factories import done_drift_job
from tests.monitoring_pages.factories import drift_job_id, drift_result_id, history_candidate_id
from tests.promotion.factories import (
    failed_candidate,
    open_incident,
    running_operation,
    validated_candidate,
)
from tests.validation_runs.factories import finished_run, running_run

pytestmark = pytest.mark.django_db

READERS = {"admin", "rm-ana", "analyst", "viewer"}
PAGES = [
    ("overview", {}),
    ("audit", {}),
    ("repository_overview", {"name": "pipeline"}),
    ("branch_list", {"name": "pipeline"}),
    ("candidate_list", {"name": "pipeline"}),
    ("release_list", {"name": "pipeline"}),
    ("release_detail", {"name": "pipeline", "version": "1.0.0"}),
    ("monitoring_home", {"name": "pipeline"}),
    ("validation_run_detail", {"name": "pipeline", "run_id": finished_run}),
    ("candidate_detail", {"name": "pipeline", "pk": validated_candidate}),
    ("model_health", {"name": "pipeline"}),
    ("release_compare", {"name": "pipeline", "before": "1.0.0", "after": "1.0.0"}),
    ("candidate_compare", {"name": "pipeline", "before": "2.1.0", "pk": history_candidate_id}),
    ("drift_overview", {"name": "pipeline"}),
    ("deployment_status", {"name": "pipeline"}),
    ("drift_job_list", {"name": "pipeline"}),
    ("drift_job_detail", {"name": "pipeline", "job_id": done_drift_job}),
    ("drift_job_charts", {"name": "pipeline", "job_id": drift_job_id}),
    ("drift_result", {"name": "pipeline", "job_id": drift_job_id, "result_id": drift_result_id}),
    ("operation_list", {"name": "pipeline"}),
    ("operation_detail", {"name": "pipeline", "pk": running_operation}),
    ("incident_list", {"name": "pipeline"}),
]
# Pages only some roles may open (GET), with who may.
RESTRICTED_PAGES = [
    ("rollback_preview", {"name": "pipeline", "version": "1.0.0"}, {"admin"}),
]
ACTIONS = [
    ("sync_now", {"name": "pipeline"}, {"admin", "rm-ana"}),
    ("validation_run_start", {"name": "pipeline"}, {"admin", "rm-ana"}),
    ("validation_run_cancel", {"name": "pipeline", "run_id": running_run}, {"admin", "rm-ana"}),
    ("validation_run_rerun", {"name": "pipeline", "run_id": finished_run}, {"admin", "rm-ana"}),
    ("candidate_create", {"name": "pipeline"}, {"admin", "rm-ana"}),
    ("candidate_approve", {"name": "pipeline", "pk": validated_candidate}, {"admin", "rm-ana"}),
    ("candidate_reject", {"name": "pipeline", "pk": validated_candidate}, {"admin", "rm-ana"}),
    ("candidate_rerun", {"name": "pipeline", "pk": validated_candidate}, {"admin", "rm-ana"}),
    ("candidate_waive", {"name": "pipeline", "pk": failed_candidate}, {"admin"}),
    ("candidate_cancel", {"name": "pipeline", "pk": validated_candidate}, {"admin", "rm-ana"}),
    ("candidate_promote", {"name": "pipeline", "pk": validated_candidate}, {"admin", "rm-ana"}),
    ("rollback_confirm", {"name": "pipeline", "version": "1.0.0"}, {"admin"}),
    ("hotfix_cut", {"name": "pipeline"}, {"admin", "rm-ana"}),
    ("back_merge", {"name": "pipeline"}, {"admin", "rm-ana"}),
    ("freeze_create", {"name": "pipeline"}, {"admin"}),
    ("drift_job_start", {"name": "pipeline"}, {"admin", "rm-ana", "analyst"}),
    ("operation_reconcile", {"name": "pipeline", "pk": running_operation}, {"admin"}),
    ("incident_acknowledge", {"name": "pipeline", "pk": open_incident}, {"admin"}),
]


def url(view: str, kwargs: dict) -> str:
    """A callable kwarg (an object made for the test, e.g. a run) is called for its id."""
    return reverse(view, kwargs={k: v() if callable(v) else v for k, v in kwargs.items()})


@pytest.mark.parametrize(("page", "kwargs"), PAGES)
@pytest.mark.parametrize("username", ROLE_USERS)
def test_pages_by_role(login, registered, page, kwargs, username):
    response = login(username).get(url(page, kwargs), follow=False)
    if username in READERS:
        assert response.status_code in (200, 302)
        if response.status_code == 302:  # the overview forwards to the only repository
            assert response["Location"] == reverse(
                "repository_overview", kwargs={"name": "pipeline"}
            )
    else:
        assert response.status_code == 403
        assert b"no role" in response.content


@pytest.mark.parametrize(("page", "kwargs", "allowed"), RESTRICTED_PAGES)
@pytest.mark.parametrize("username", ROLE_USERS)
def test_restricted_pages_by_role(login, registered, page, kwargs, allowed, username):
    response = login(username).get(url(page, kwargs))
    assert response.status_code in ((200, 302) if username in allowed else (403,))


@pytest.mark.parametrize(("page", "kwargs"), PAGES + [p[:2] for p in RESTRICTED_PAGES])
def test_pages_send_anonymous_users_to_sign_in(client, registered, page, kwargs):
    response = client.get(url(page, kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("action", "kwargs", "allowed"), ACTIONS)
@pytest.mark.parametrize("username", ROLE_USERS)
def test_actions_by_role(
    login, registered, action, kwargs, allowed, username, django_capture_on_commit_callbacks
):
    client = login(username)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post_form(url(action, kwargs))
    assert response.status_code == (302 if username in allowed else 403)


@pytest.mark.parametrize(("action", "kwargs", "allowed"), ACTIONS)
def test_actions_send_anonymous_users_to_sign_in(registered, action, kwargs, allowed):
    from tests.conftest import CsrfClient

    response = CsrfClient().post_form(url(action, kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("action", "kwargs", "allowed"), ACTIONS)
def test_actions_refuse_a_post_without_csrf_token(login, registered, action, kwargs, allowed):
    response = login("admin").post(url(action, kwargs))
    assert response.status_code == 403
    assert b"CSRF" in response.content


@pytest.mark.parametrize(("action", "kwargs", "allowed"), ACTIONS)
def test_actions_refuse_get(login, registered, action, kwargs, allowed):
    assert login("admin").get(url(action, kwargs)).status_code == 405


def test_unknown_repository_is_404(login, registered):
    assert login("viewer").get(reverse("branch_list", kwargs={"name": "nope"})).status_code == 404


def test_admin_site_is_for_admins_only(login, registered):
    assert login("admin").get("/admin/").status_code == 200
    for username in ("rm-ana", "analyst", "viewer", "outsider"):
        response = login(username).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
