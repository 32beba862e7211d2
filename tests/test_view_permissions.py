"""Every view × every role: allowed, forbidden, or (anonymous) sent to sign in.

Adding a page to PAGES or an action to ACTIONS adds its permission tests.
"""

import pytest
from django.urls import reverse

from tests.conftest import ROLE_USERS

pytestmark = pytest.mark.django_db

READERS = {"admin", "rm-ana", "analyst", "viewer"}
PAGES = [
    ("overview", {}),
    ("audit", {}),
    ("repository", {"name": "pipeline"}),
    ("branches", {"name": "pipeline"}),
    ("candidates", {"name": "pipeline"}),
    ("releases", {"name": "pipeline"}),
    ("monitoring", {"name": "pipeline"}),
]
ACTIONS = [
    ("sync-now", {"name": "pipeline"}, {"admin", "rm-ana"}),
]


@pytest.mark.parametrize(("page", "kwargs"), PAGES)
@pytest.mark.parametrize("username", ROLE_USERS)
def test_pages_by_role(login, registered, page, kwargs, username):
    response = login(username).get(reverse(page, kwargs=kwargs), follow=False)
    if username in READERS:
        assert response.status_code in (200, 302)
        if response.status_code == 302:  # the overview forwards to the only repository
            assert response["Location"] == reverse("repository", kwargs={"name": "pipeline"})
    else:
        assert response.status_code == 403
        assert b"no role" in response.content


@pytest.mark.parametrize(("page", "kwargs"), PAGES)
def test_pages_send_anonymous_users_to_sign_in(client, registered, page, kwargs):
    url = reverse(page, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("action", "kwargs", "allowed"), ACTIONS)
@pytest.mark.parametrize("username", ROLE_USERS)
def test_actions_by_role(login, registered, action, kwargs, allowed, username,
                         django_capture_on_commit_callbacks):
    client = login(username)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post_form(reverse(action, kwargs=kwargs))
    assert response.status_code == (302 if username in allowed else 403)


@pytest.mark.parametrize(("action", "kwargs", "allowed"), ACTIONS)
def test_actions_send_anonymous_users_to_sign_in(registered, action, kwargs, allowed):
    from tests.conftest import CsrfClient

    response = CsrfClient().post_form(reverse(action, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("action", "kwargs", "allowed"), ACTIONS)
def test_actions_refuse_a_post_without_csrf_token(login, registered, action, kwargs, allowed):
    response = login("admin").post(reverse(action, kwargs=kwargs))
    assert response.status_code == 403
    assert b"CSRF" in response.content


@pytest.mark.parametrize(("action", "kwargs", "allowed"), ACTIONS)
def test_actions_refuse_get(login, registered, action, kwargs, allowed):
    assert login("admin").get(reverse(action, kwargs=kwargs)).status_code == 405


def test_unknown_repository_is_404(login, registered):
    assert login("viewer").get(reverse("branches", kwargs={"name": "nope"})).status_code == 404


def test_admin_site_is_for_admins_only(login, registered):
    assert login("admin").get("/admin/").status_code == 200
    for username in ("rm-ana", "analyst", "viewer", "outsider"):
        response = login(username).get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
