"""Single sign-on against a real OpenID provider: accounts made on first sign-in, roles from
the group claim set again at every sign-in, refusals said on the sign-in page."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import OidcAccount
from ewsdash.roles import role_of
from releases.identities import user_deactivate
from releases.models import AuditEvent
from tests.conftest import PASSWORD, CsrfClient
from tests.support.oidc import sign_in_through

pytestmark = pytest.mark.django_db
User = get_user_model()


def sign_in(provider, login: str, **kwargs):
    client = CsrfClient()
    return client, sign_in_through(client, provider, login, **kwargs)


def signed_in_as(client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).username if user_id else None


def roles(username: str) -> list[str]:
    return sorted(User.objects.get(username=username).groups.values_list("name", flat=True))


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def test_it_creates_the_user_on_first_sign_in_with_the_mapped_role(sso):
    sso.set_account(
        "u-ada", preferred_username="ada", email="ada@views.example", groups=["ews-release"]
    )
    client, response = sign_in(sso, "u-ada")

    assert response.status_code == 302 and response["Location"] == reverse("overview")
    assert signed_in_as(client) == "ada"
    ada = User.objects.get(username="ada")
    assert (ada.email, ada.has_usable_password(), ada.is_staff) == (
        "ada@views.example",
        False,
        False,
    )
    assert roles("ada") == ["release manager"] and role_of(ada) == "release manager"
    assert OidcAccount.objects.get(user=ada).subject == "u-ada"
    assert OidcAccount.objects.get(user=ada).issuer == sso.issuer
    created, changed = events("user.created"), events("user.roles_changed")
    assert [e.object_repr for e in created] == ["ada"]
    assert created[0].actor_name == "single sign-on"
    assert created[0].payload == {"issuer": sso.issuer, "subject": "u-ada"}
    assert [e.payload for e in changed] == [
        {
            "before": [],
            "after": ["release manager"],
            "groups": ["ews-release"],
            "issuer": sso.issuer,
        }
    ]


def test_it_lands_on_the_overview_and_the_next_page(sso, registered):
    sso.set_account("u-ada", preferred_username="ada", groups=["ews-staff"])
    client, response = sign_in(sso, "u-ada", next_url="/audit/")
    assert response["Location"] == "/audit/"
    assert client.get("/audit/").status_code == 200


def test_every_mapped_group_gives_its_role_and_admins_get_the_admin_site(sso):
    sso.set_account(
        "u-bo", preferred_username="bo", groups=["ews-analysts", "ews-admins", "other-team"]
    )
    client, _ = sign_in(sso, "u-bo")

    bo = User.objects.get(username="bo")
    assert roles("bo") == ["admin", "analyst"] and role_of(bo) == "admin"
    assert bo.is_staff and not bo.is_superuser
    assert client.get("/admin/").status_code == 200
    # Unmapped groups are not recorded.
    assert events("user.roles_changed")[0].payload["groups"] == ["ews-analysts", "ews-admins"]


def test_a_group_removed_at_the_provider_removes_its_role_at_the_next_sign_in(sso):
    sso.set_account("u-cy", preferred_username="cy", groups=["ews-admins", "ews-staff"])
    sign_in(sso, "u-cy")
    assert roles("cy") == ["admin", "viewer"] and User.objects.get(username="cy").is_staff

    sso.set_account("u-cy", preferred_username="cy", groups=["ews-staff"])
    client, response = sign_in(sso, "u-cy")

    assert signed_in_as(client) == "cy"
    assert roles("cy") == ["viewer"] and not User.objects.get(username="cy").is_staff
    last = events("user.roles_changed")[-1]
    assert last.payload["before"] == ["admin", "viewer"] and last.payload["after"] == ["viewer"]
    # The same groups again: nothing changes, nothing is written.
    count = AuditEvent.objects.count()
    sign_in(sso, "u-cy")
    assert AuditEvent.objects.count() == count


def test_someone_whose_groups_give_no_role_is_refused_and_no_account_is_made(sso):
    sso.set_account("u-dee", preferred_username="dee", groups=["other-team"])
    client, response = sign_in(sso, "u-dee")

    assert response["Location"] == reverse("login")
    assert signed_in_as(client) is None
    assert not User.objects.filter(username="dee").exists()
    assert said(response) == [
        "Your account at the VIEWS account is in no group that gives an ewsdash role. "
        "Ask an admin to add you to one."
    ]
    page = client.get(response["Location"])
    assert b"no group that gives an ewsdash role" in page.content


def test_losing_every_mapped_group_removes_every_role_and_refuses(sso):
    sso.set_account("u-eve", preferred_username="eve", groups=["ews-analysts"])
    sign_in(sso, "u-eve")
    sso.set_account("u-eve", preferred_username="eve", groups=[])

    client, response = sign_in(sso, "u-eve")

    assert signed_in_as(client) is None and response["Location"] == reverse("login")
    assert roles("eve") == []  # committed, although the sign-in was refused
    assert events("user.roles_changed")[-1].payload["after"] == []


def test_a_deactivated_user_is_refused_whatever_the_provider_says(sso, users):
    sso.set_account("u-fay", preferred_username="fay", groups=["ews-release"])
    sign_in(sso, "u-fay")
    user_deactivate(actor=users["admin"], user=User.objects.get(username="fay"))
    sso.set_account("u-fay", preferred_username="fay", groups=["ews-admins"])

    client, response = sign_in(sso, "u-fay")

    assert signed_in_as(client) is None
    assert said(response) == ["This ewsdash account is deactivated. Ask an admin."]
    assert roles("fay") == ["release manager"]  # a refused account is not changed


def test_a_deactivated_users_session_ends(sso, users, registered):
    sso.set_account("u-gus", preferred_username="gus", groups=["ews-staff"])
    client, _ = sign_in(sso, "u-gus")
    assert client.get("/audit/").status_code == 200

    user_deactivate(actor=users["admin"], user=User.objects.get(username="gus"))

    response = client.get("/audit/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_local_account_is_never_taken_over_by_its_name_or_e_mail(sso, users):
    sso.set_account(
        "u-imp", preferred_username="Admin", email="admin@ewsdash.example", groups=["ews-staff"]
    )
    client, _ = sign_in(sso, "u-imp")

    assert signed_in_as(client) == "Admin-2"
    assert not OidcAccount.objects.filter(user=users["admin"]).exists()
    assert roles("admin") == ["admin"]


def test_the_subject_not_the_name_says_who_signs_in(sso):
    sso.set_account("u-hal", preferred_username="hal", groups=["ews-staff"])
    sign_in(sso, "u-hal")
    sso.set_account("u-hal", preferred_username="hal.renamed", groups=["ews-staff"])
    sso.set_account("u-other", preferred_username="hal", groups=["ews-staff"])

    first, _ = sign_in(sso, "u-hal")
    second, _ = sign_in(sso, "u-other")

    assert (signed_in_as(first), signed_in_as(second)) == ("hal", "hal-2")


def test_a_username_claim_missing_falls_back_to_the_subject(sso, settings):
    settings.EWSDASH_OIDC_USERNAME_CLAIM = "upn"
    sso.set_account("u-ivy", preferred_username="ivy", groups=["ews-staff"])
    client, _ = sign_in(sso, "u-ivy")
    assert signed_in_as(client) == "u-ivy"


def test_the_sign_in_page_offers_both_and_passwords_still_work(sso, users):
    client = CsrfClient()
    page = client.get(reverse("login") + "?next=/audit/")
    assert b"Sign in with the VIEWS account" in page.content
    assert b'href="/oidc/authenticate/?next=/audit/"' in page.content
    assert b'name="password"' in page.content

    client.post_form(reverse("login"), {"username": "admin", "password": PASSWORD})
    assert signed_in_as(client) == "admin"


def test_without_an_issuer_there_is_no_button_and_no_sign_on(users):
    client = CsrfClient()
    page = client.get(reverse("login"))
    assert page.status_code == 200 and b"Sign in with" not in page.content
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_a_callback_without_its_state_signs_nobody_in(sso):
    sso.set_account("u-jo", preferred_username="jo", groups=["ews-staff"])
    client = CsrfClient()
    response = client.get("/oidc/callback/?code=forged&state=forged")
    assert response.status_code == 302 and signed_in_as(client) is None
    assert not User.objects.filter(username="jo").exists()


def test_a_provider_that_cannot_be_reached_is_said_on_the_sign_in_page(sso, settings):
    settings.EWSDASH_OIDC_ISSUER = "http://127.0.0.1:9"  # nothing listens there
    response = CsrfClient().get("/oidc/authenticate/")
    assert response["Location"] == reverse("login")
    assert said(response) == [
        "The identity provider cannot be reached just now. Try again in a moment."
    ]
