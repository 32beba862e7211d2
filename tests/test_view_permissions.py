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


def admins_token() -> int:
    from django.contrib.auth import get_user_model

    from api.models import ApiToken
    from api.tokens import token_create

    admin = get_user_model().objects.get_or_create(username="admin")[0]
    token_create(user=admin, name="matrix")
    return ApiToken.objects.get(user=admin, name="matrix").pk


def freeze_window() -> int:
    """A freeze in force now, set by an admin."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from releases.models import FreezeWindow, Repository

    now = timezone.now()
    return FreezeWindow.objects.create(
        repository=Repository.objects.get(name="pipeline"),
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
        reason="conference",
        created_by=get_user_model().objects.get_or_create(username="admin")[0],
    ).pk


PAGES = [
    ("overview", {}),
    ("audit", {}),
    ("api_token_list", {}),
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
    ("freeze_end", {"name": "pipeline", "pk": freeze_window}, {"admin"}),
    ("drift_job_start", {"name": "pipeline"}, {"admin", "rm-ana", "analyst"}),
]
# Actions that answer with a page (200) rather than a redirect.
RENDERING_ACTIONS = [
    ("api_token_create", {}, READERS),
]
# Actions on what the asking user owns (their own token; another's is a 404).
OWNED_ACTIONS = [
    ("api_token_revoke", {"pk": admins_token}, READERS),
]


# Webhooks answer to a signature, never to a session: unsigned, every role gets 401.
# (Signed requests: tests/api/test_webhooks.py. The API's operations have their own
# generated matrix of role x token scope: tests/api/test_api_permissions.py.)
HOOKS = [
    ("github_webhook", {"name": "pipeline"}),
    ("git_webhook", {"name": "pipeline"}),
]
# Open to all, answering only a problem: any path under /api/ no operation serves.
OPEN = [("api_not_found", {"rest": "v1/nope"})]


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


@pytest.mark.parametrize(("action", "kwargs", "allowed"), RENDERING_ACTIONS)
@pytest.mark.parametrize("username", ROLE_USERS)
def test_rendering_actions_by_role(login, registered, action, kwargs, allowed, username):
    response = login(username).post_form(url(action, kwargs), {"name": "matrix"})
    assert response.status_code == (200 if username in allowed else 403)


@pytest.mark.parametrize(("action", "kwargs", "allowed"), OWNED_ACTIONS)
@pytest.mark.parametrize("username", ROLE_USERS)
def test_owned_actions_by_role(login, users, registered, action, kwargs, allowed, username):
    from api.tokens import token_create, tokens_of

    token_create(user=users[username], name="own")
    [own] = tokens_of(user=users[username])
    response = login(username).post_form(url(action, {**kwargs, "pk": own.pk}))
    assert response.status_code == (302 if username in allowed else 403)
    if username in allowed:
        others = login(username).post_form(url(action, kwargs))  # the admin's token
        assert others.status_code == (302 if username == "admin" else 404)


ALL_ACTIONS = ACTIONS + RENDERING_ACTIONS + OWNED_ACTIONS


@pytest.mark.parametrize(("action", "kwargs", "allowed"), ALL_ACTIONS)
def test_actions_send_anonymous_users_to_sign_in(registered, action, kwargs, allowed):
    from tests.conftest import CsrfClient

    response = CsrfClient().post_form(url(action, kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("action", "kwargs", "allowed"), ALL_ACTIONS)
def test_actions_refuse_a_post_without_csrf_token(login, registered, action, kwargs, allowed):
    response = login("admin").post(url(action, kwargs))
    assert response.status_code == 403
    assert b"CSRF" in response.content


@pytest.mark.parametrize(("action", "kwargs", "allowed"), ALL_ACTIONS)
def test_actions_refuse_get(login, registered, action, kwargs, allowed):
    assert login("admin").get(url(action, kwargs)).status_code == 405


def test_unknown_repository_is_404(login, registered):
    assert login("viewer").get(reverse("branch_list", kwargs={"name": "nope"})).status_code == 404


def test_admin_site_is_for_admins_only(login, registered):
    assert login("admin").get("/admin/").status_code == 200
    for username in ("rm-ana", "analyst", "viewer", "outsider"):
        response = login(username).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize(("hook", "kwargs"), HOOKS)
@pytest.mark.parametrize("username", [None, *ROLE_USERS])
def test_hooks_refuse_unsigned_posts_whoever_asks(login, registered, hook, kwargs, username):
    client = login(username)
    response = client.post(url(hook, kwargs), b"{}", content_type="application/json")
    assert response.status_code == 401
    assert client.get(url(hook, kwargs)).status_code == 405


def test_every_url_has_a_row_in_a_matrix():
    from django.urls import URLPattern, URLResolver, get_resolver

    def names(resolver):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                # The admin is Django's; the API's matrix is generated from its document.
                if entry.app_name != "admin" and entry.namespace != "api":
                    yield from names(entry)
            elif isinstance(entry, URLPattern):
                yield entry.name

    covered = {row[0] for row in PAGES + RESTRICTED_PAGES + ALL_ACTIONS + HOOKS + OPEN}
    covered |= {"login", "logout"}
    assert sorted(set(names(get_resolver())) - covered) == []


@pytest.mark.parametrize(("view", "kwargs"), OPEN)
@pytest.mark.parametrize("username", [None, *ROLE_USERS])
def test_unknown_api_paths_are_a_404_problem_for_everyone(login, view, kwargs, username):
    response = login(username).get(url(view, kwargs))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
