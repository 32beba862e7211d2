"""Every view × every role: allowed, forbidden, or (anonymous) sent to sign in.

Adding a page to PAGES or an action to ACTIONS adds its permission tests.
"""

import pytest
from django.urls import reverse

from tests.conftest import ROLE_USERS
from tests.drift_jobs.drift_job_factories import done_drift_job
from tests.monitoring_pages.factories import drift_job_id, drift_result_id, history_candidate_id
from tests.promotion.factories import failed_candidate, validated_candidate
from tests.validation_runs.factories import finished_run, running_run

pytestmark = pytest.mark.django_db

READERS = {"admin", "rm-ana", "analyst", "viewer"}
PAGES = [
    ("overview", {}),
    ("audit", {}),
    ("repository", {"name": "pipeline"}),
    ("branches", {"name": "pipeline"}),
    ("candidates", {"name": "pipeline"}),
    ("releases", {"name": "pipeline"}),
    ("release", {"name": "pipeline", "version": "1.0.0"}),
    ("monitoring", {"name": "pipeline"}),
    ("validation-run", {"name": "pipeline", "run_id": finished_run}),
    ("candidate", {"name": "pipeline", "pk": validated_candidate}),
    ("model-health", {"name": "pipeline"}),
    ("release-compare", {"name": "pipeline", "before": "1.0.0", "after": "1.0.0"}),
    ("candidate-compare", {"name": "pipeline", "before": "2.1.0", "pk": history_candidate_id}),
    ("drift-overview", {"name": "pipeline"}),
    ("deployments", {"name": "pipeline"}),
    ("drift-jobs", {"name": "pipeline"}),
    ("drift-job", {"name": "pipeline", "job_id": done_drift_job}),
    ("drift-job-charts", {"name": "pipeline", "job_id": drift_job_id}),
    ("drift-result", {"name": "pipeline", "job_id": drift_job_id, "result_id": drift_result_id}),
]
# Pages only some roles may open (GET), with who may.
RESTRICTED_PAGES = [
    ("rollback-preview", {"name": "pipeline", "version": "1.0.0"}, {"admin"}),
]
ACTIONS = [
    ("sync-now", {"name": "pipeline"}, {"admin", "rm-ana"}),
    ("validation-start", {"name": "pipeline"}, {"admin", "rm-ana"}),
    ("validation-cancel", {"name": "pipeline", "run_id": running_run}, {"admin", "rm-ana"}),
    ("validation-rerun", {"name": "pipeline", "run_id": finished_run}, {"admin", "rm-ana"}),
    ("candidate-create", {"name": "pipeline"}, {"admin", "rm-ana"}),
    ("candidate-approve", {"name": "pipeline", "pk": validated_candidate}, {"admin", "rm-ana"}),
    ("candidate-reject", {"name": "pipeline", "pk": validated_candidate}, {"admin", "rm-ana"}),
    ("candidate-rerun", {"name": "pipeline", "pk": validated_candidate}, {"admin", "rm-ana"}),
    ("candidate-waive", {"name": "pipeline", "pk": failed_candidate}, {"admin"}),
    ("candidate-cancel", {"name": "pipeline", "pk": validated_candidate}, {"admin", "rm-ana"}),
    ("candidate-promote", {"name": "pipeline", "pk": validated_candidate}, {"admin", "rm-ana"}),
    ("rollback-confirm", {"name": "pipeline", "version": "1.0.0"}, {"admin"}),
    ("hotfix-cut", {"name": "pipeline"}, {"admin", "rm-ana"}),
    ("back-merge", {"name": "pipeline"}, {"admin", "rm-ana"}),
    ("freeze-create", {"name": "pipeline"}, {"admin"}),
    ("drift-job-start", {"name": "pipeline"}, {"admin", "rm-ana", "analyst"}),
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
            assert response["Location"] == reverse("repository", kwargs={"name": "pipeline"})
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
    assert login("viewer").get(reverse("branches", kwargs={"name": "nope"})).status_code == 404


def test_admin_site_is_for_admins_only(login, registered):
    assert login("admin").get("/admin/").status_code == 200
    for username in ("rm-ana", "analyst", "viewer", "outsider"):
        response = login(username).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
