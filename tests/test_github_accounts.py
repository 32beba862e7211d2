"""Linking a person's GitHub login (their reviews may count as approvals): admins only,
audited, one login one person (case-insensitively)."""

from __future__ import annotations

import pytest

from releases import identities
from releases.audit import AuditEvent
from releases.errors import ActionRefused
from releases.models import GitHubAccount

pytestmark = pytest.mark.django_db


def test_it_links_and_audits(users):
    identities.github_login_set(actor=users["admin"], user=users["rm-ben"], github_login="@Ben-GH")
    assert users["rm-ben"].github_account.github_login == "Ben-GH"
    [event] = AuditEvent.objects.filter(action="user.github_linked")
    assert event.payload == {"user": "rm-ben", "github_login": "Ben-GH", "was": ""}
    assert event.actor == users["admin"]


def test_it_requires_a_user_manager(users):
    with pytest.raises(ActionRefused, match="manage users"):
        identities.github_login_set(
            actor=users["rm-ana"], user=users["rm-ana"], github_login="ana-gh"
        )
    assert not GitHubAccount.objects.exists()


def test_one_login_is_one_persons(users):
    identities.github_login_set(actor=users["admin"], user=users["rm-ben"], github_login="ben-gh")
    with pytest.raises(ActionRefused, match="already linked"):
        identities.github_login_set(
            actor=users["admin"], user=users["rm-ana"], github_login="BEN-gh"
        )


def test_it_refuses_what_is_not_a_github_login(users):
    with pytest.raises(ActionRefused, match="A GitHub login"):
        identities.github_login_set(
            actor=users["admin"], user=users["rm-ben"], github_login="ben--gh!"
        )


def test_it_unlinks_and_audits(users):
    identities.github_login_set(actor=users["admin"], user=users["rm-ben"], github_login="ben-gh")
    identities.github_login_set(actor=users["admin"], user=users["rm-ben"], github_login="")
    assert not GitHubAccount.objects.exists()
    [event] = AuditEvent.objects.filter(action="user.github_unlinked")
    assert event.payload == {"was": "ben-gh"}


def test_the_admin_links_through_the_audited_service(login, users):
    response = login("admin").post_form(
        "/admin/releases/githubaccount/add/",
        {"user": users["rm-ben"].pk, "github_login": "ben-gh"},
    )
    assert response.status_code == 302
    assert GitHubAccount.objects.get().linked_by == users["admin"]
    assert AuditEvent.objects.filter(action="user.github_linked").count() == 1


def test_a_release_manager_cannot_reach_the_links(login, users):
    page = login("rm-ana").get("/admin/releases/githubaccount/add/")
    assert page.status_code in (302, 403)
