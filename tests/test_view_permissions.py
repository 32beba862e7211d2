"""Who may open or post to each URL: one row per URL name, the answer for every role.

The rows are checked against Django's URL resolver: a URL without a row (or a row
without a URL) fails `test_every_url_has_a_row`, so a new view cannot ship without
saying who may use it. Each row gives the status a GET and a POST (with a valid CSRF
token, an empty form) get, per role. `LOGIN` is a redirect to the sign-in page.

What the actions then do (their effects and audit events) is in tests/views/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from api.models import ApiToken
from api.tokens import token_create
from releases.models import BackportItem
from tests.conftest import CsrfClient
from tests.drift_jobs.drift_job_factories import done_drift_job
from tests.monitoring_pages.factories import drift_job_id, drift_result_id, history_candidate_id
from tests.notifications.factories import sent_delivery
from tests.promotion.factories import (
    active_freeze,
    attested_release,
    failed_candidate,
    open_incident,
    running_operation,
    validated_candidate,
)
from tests.support.urls import url_patterns
from tests.validation_runs.factories import finished_run, running_run

pytestmark = pytest.mark.django_db


def admins_token() -> int:
    """A fresh API token of the admin's (other users may not revoke it: a 404)."""
    admin = get_user_model().objects.get_or_create(username="admin")[0]
    name = f"matrix-{ApiToken.objects.count()}"
    token_create(user=admin, name=name)
    return ApiToken.objects.get(user=admin, name=name).pk


def a_secret() -> int:
    """A secret of the pipeline's (its ciphertext is not read by these requests)."""
    from monitoring.models import RepositorySecret
    from releases.models import Repository

    repository = Repository.objects.get(name="pipeline")
    count = RepositorySecret.objects.count()
    return RepositorySecret.objects.create(
        repository=repository, name=f"MATRIX_{count}", ciphertext="not-read"
    ).pk


def open_backport() -> int:
    """The basic world's hotfix, on production and not on development."""
    return BackportItem.objects.get(resolved_at=None).pk


LOGIN = "login"  # a 302 to the sign-in page


class Expect(NamedTuple):
    """The status each role gets (302 elsewhere than the sign-in page: the action's redirect)."""

    anonymous: int | str
    viewer: int | str
    analyst: int | str
    release_manager: int | str
    admin: int | str


# The test users (tests/conftest.py) who play each role.
PLAYERS = {
    "anonymous": None,
    "viewer": "viewer",
    "analyst": "analyst",
    "release_manager": "rm-ana",
    "admin": "admin",
}

#                        anonymous viewer analyst  RM   admin
READ = Expect(LOGIN, 200, 200, 200, 200)
WRONG_METHOD = Expect(LOGIN, 405, 405, 405, 405)
RM_AND_ADMIN = Expect(LOGIN, 403, 403, 302, 302)
ANALYST_RM_AND_ADMIN = Expect(LOGIN, 403, 302, 302, 302)
ADMIN_ONLY = Expect(LOGIN, 403, 403, 403, 302)


@dataclass(frozen=True)
class Row:
    get: Expect
    post: Expect
    # URL kwargs; a callable (a factory from tests/*/factories.py) is called for its id.
    kwargs: dict = field(default_factory=dict)
    # Open to everyone, signed in or not, with a role or not (Django's sign-in views).
    public: bool = False


def page(**kwargs) -> Row:
    return Row(get=READ, post=WRONG_METHOD, kwargs=kwargs)


def action(who: Expect, **kwargs) -> Row:
    return Row(get=WRONG_METHOD, post=who, kwargs=kwargs)


P = "pipeline"
MATRIX: dict[str, Row] = {
    # Django's sign-in (an empty form is shown again with its errors) and sign-out.
    "login": Row(
        get=Expect(200, 200, 200, 200, 200), post=Expect(200, 200, 200, 200, 200), public=True
    ),
    # Signing out is a POST, and ends on the sign-in page.
    "logout": Row(get=WRONG_METHOD, post=Expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN), public=True),
    # Single sign-on's two addresses, open to everyone (GET only): 404 while no identity
    # provider is configured, as here (with one: tests/sso/, tests/browser/test_journey_sso.py).
    "oidc_authenticate": Row(get=Expect(*[404] * 5), post=Expect(*[405] * 5), public=True),
    "oidc_callback": Row(get=Expect(*[404] * 5), post=Expect(*[405] * 5), public=True),
    # Pages: every role reads.
    "overview": Row(
        get=Expect(LOGIN, 302, 302, 302, 302), post=WRONG_METHOD
    ),  # to the only repository
    "audit": page(),
    "repository_overview": page(name=P),
    "branch_list": page(name=P),
    "candidate_list": page(name=P),
    "candidate_detail": page(name=P, pk=validated_candidate),
    "release_list": page(name=P),
    "release_detail": page(name=P, version="1.0.0"),
    # A release's signed attestation: every role downloads it and has it verified.
    "release_attestation": page(name=P, version=attested_release),
    "release_verify": page(name=P, version=attested_release),
    "monitoring_home": page(name=P),
    "validation_run_detail": page(name=P, run_id=finished_run),
    "drift_job_list": page(name=P),
    "drift_job_detail": page(name=P, job_id=done_drift_job),
    "model_health": page(name=P),
    "release_compare": page(name=P, before="1.0.0", after="1.0.0"),
    "candidate_compare": page(name=P, before="2.1.0", pk=history_candidate_id),
    "deployment_status": page(name=P),
    "drift_overview": page(name=P),
    "drift_job_charts": page(name=P, job_id=drift_job_id),
    "drift_result": page(name=P, job_id=drift_job_id, result_id=drift_result_id),
    "operation_list": page(name=P),
    "operation_detail": page(name=P, pk=running_operation),
    "incident_list": page(name=P),
    # The rollback preview is a page only admins may open.
    "rollback_preview": Row(
        get=Expect(LOGIN, 403, 403, 403, 200),
        post=WRONG_METHOD,
        kwargs={"name": P, "version": "1.0.0"},
    ),
    # Actions: POST only.
    "sync_now": action(RM_AND_ADMIN, name=P),
    "validation_run_start": action(RM_AND_ADMIN, name=P),
    "validation_run_cancel": action(RM_AND_ADMIN, name=P, run_id=running_run),
    "validation_run_rerun": action(RM_AND_ADMIN, name=P, run_id=finished_run),
    "drift_job_start": action(ANALYST_RM_AND_ADMIN, name=P),
    # On a repository other than the demo, allowed roles are told why not (a redirect).
    "skill_demo_publish": action(ANALYST_RM_AND_ADMIN, name=P),
    "candidate_create": action(RM_AND_ADMIN, name=P),
    "candidate_approve": action(RM_AND_ADMIN, name=P, pk=validated_candidate),
    "candidate_reject": action(RM_AND_ADMIN, name=P, pk=validated_candidate),
    "candidate_rerun": action(RM_AND_ADMIN, name=P, pk=validated_candidate),
    "candidate_waive": action(ADMIN_ONLY, name=P, pk=failed_candidate),
    "candidate_approve_manifest": action(ADMIN_ONLY, name=P, pk=failed_candidate),
    "candidate_cancel": action(RM_AND_ADMIN, name=P, pk=validated_candidate),
    "candidate_promote": action(RM_AND_ADMIN, name=P, pk=validated_candidate),
    "rollback_confirm": action(ADMIN_ONLY, name=P, version="1.0.0"),
    "hotfix_cut": action(RM_AND_ADMIN, name=P),
    "back_merge": action(RM_AND_ADMIN, name=P),
    "backport_wont": action(RM_AND_ADMIN, name=P, item_id=open_backport),
    "freeze_create": action(ADMIN_ONLY, name=P),
    "freeze_end": action(ADMIN_ONLY, name=P, pk=active_freeze),
    # Refused for now (its worker still reports; no reason given), back to the page: 302.
    "operation_reconcile": action(ADMIN_ONLY, name=P, pk=running_operation),
    "incident_acknowledge": action(ADMIN_ONLY, name=P, pk=open_incident),
    # Secrets for checks (issue 17): admins only, pages and actions.
    "repository_secrets": Row(
        get=Expect(LOGIN, 403, 403, 403, 200), post=WRONG_METHOD, kwargs={"name": P}
    ),
    "repository_secret_set": action(ADMIN_ONLY, name=P),
    "repository_secret_delete": action(ADMIN_ONLY, name=P, pk=a_secret),
    # Your own API tokens (the API's operations have their own generated matrix of role x
    # token scope: tests/api/test_api_permissions.py).
    "api_token_list": page(),
    # An empty form is shown again with its error (400).
    "api_token_create": Row(get=WRONG_METHOD, post=Expect(LOGIN, 400, 400, 400, 400)),
    # Only your own token: another user's (the admin's) is a 404.
    "api_token_revoke": action(Expect(LOGIN, 404, 404, 404, 302), pk=admins_token),
    # Your own notification settings: every role reads and saves its own (an empty form
    # turns every e-mail off).
    "notification_preferences": page(),
    "notification_preferences_save": action(Expect(LOGIN, 302, 302, 302, 302)),
    # Deliveries: admins only (they show channels failing); redeliver is audited.
    "delivery_list": Row(get=Expect(LOGIN, 403, 403, 403, 200), post=WRONG_METHOD),
    "delivery_redeliver": action(ADMIN_ONLY, pk=sent_delivery),
    # The header's "waiting for you" count, fetched by every page.
    "waiting_count": page(),
    # Webhooks answer to a signature, never to a session: unsigned is 401 for everyone
    # (signed requests: tests/api/test_webhooks.py).
    "github_webhook": Row(
        get=Expect(*[405] * 5), post=Expect(*[401] * 5), kwargs={"name": P}, public=True
    ),
    "git_webhook": Row(
        get=Expect(*[405] * 5), post=Expect(*[401] * 5), kwargs={"name": P}, public=True
    ),
    # Any path under /api/ that no operation serves: a problem document for everyone.
    "api_not_found": Row(
        get=Expect(*[404] * 5), post=Expect(*[404] * 5), kwargs={"rest": "v1/nope"}, public=True
    ),
}
ACTIONS = [name for name, row in MATRIX.items() if row.get == WRONG_METHOD and not row.public]


def test_every_url_has_a_row():
    routes = {entry.name: route for route, entry in url_patterns()}
    assert None not in routes, f"{routes.get(None)} has no name"
    missing = sorted(set(routes) - set(MATRIX))
    assert missing == [], f"add a row to MATRIX for {[(m, routes[m]) for m in missing]}"
    assert sorted(set(MATRIX) - set(routes)) == [], "rows for URLs that no longer exist"


def url_of(name: str) -> str:
    kwargs = {k: v() if callable(v) else v for k, v in MATRIX[name].kwargs.items()}
    return reverse(name, kwargs=kwargs)


def outcome(response) -> int | str:
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        return LOGIN
    return response.status_code


def client_for(login, role: str) -> CsrfClient:
    return login(PLAYERS[role])


@pytest.mark.parametrize("name", MATRIX)
def test_get_by_role(login, registered, name):
    url = url_of(name)  # one object for all roles: a GET changes nothing
    got = Expect(*(outcome(client_for(login, role).get(url)) for role in Expect._fields))
    assert got == MATRIX[name].get


@pytest.mark.parametrize("name", MATRIX)
def test_post_by_role(login, registered, name, django_capture_on_commit_callbacks):
    """Least to most privileged; an action's roles each on its own object (the release
    manager's approval is not what the admin then approves)."""
    got, url = [], url_of(name)
    for role in Expect._fields:
        if name in ACTIONS and role != "anonymous":
            url = url_of(name)
        with django_capture_on_commit_callbacks(execute=False):  # no task is queued
            got.append(outcome(client_for(login, role).post_form(url)))
    assert Expect(*got) == MATRIX[name].post


@pytest.mark.parametrize("name", [name for name, row in MATRIX.items() if not row.public])
def test_a_user_without_a_role_gets_nothing(login, registered, name):
    url, client = url_of(name), login("outsider")
    for method, expected in (("get", MATRIX[name].get), ("post", MATRIX[name].post)):
        response = client.get(url) if method == "get" else client.post_form(url)
        if expected.viewer == 405:
            assert response.status_code == 405, method
        else:
            assert response.status_code == 403, method
            assert b"no role" in response.content


def test_the_overview_forwards_to_the_only_repository(login, registered):
    response = login("viewer").get(reverse("overview"))
    assert response["Location"] == reverse("repository_overview", kwargs={"name": "pipeline"})


@pytest.mark.parametrize("name", ACTIONS)
def test_actions_refuse_a_post_without_csrf_token(login, registered, name):
    response = login("admin").post(url_of(name))
    assert response.status_code == 403
    assert b"CSRF" in response.content


def test_unknown_repository_is_404(login, registered):
    assert login("viewer").get(reverse("branch_list", kwargs={"name": "nope"})).status_code == 404


def test_admin_site_is_for_admins_only(login, registered):
    assert login("admin").get("/admin/").status_code == 200
    for username in ("rm-ana", "analyst", "viewer", "outsider"):
        response = login(username).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("username", [None, "viewer", "admin"])
def test_unknown_api_paths_are_a_problem_document(login, username):
    response = login(username).get(url_of("api_not_found"))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
