"""The admin site cannot destroy history or raise privileges: repositories are archived
through a service, users deactivated; superuser status only from the command line."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from releases import services
from releases.audit import audit_verify
from releases.errors import ActionRefused
from releases.models import AuditEvent, Repository
from releases.tasks import repositories_sync_all

pytestmark = pytest.mark.django_db


def test_the_admin_offers_no_repository_deletion(login, registered):
    admin = login("admin")
    delete = f"/admin/releases/repository/{registered.pk}/delete/"
    assert admin.post_form(delete, {"post": "yes"}).status_code in (302, 403)
    assert Repository.objects.filter(pk=registered.pk).exists()


def test_archiving_in_the_admin_is_audited_and_keeps_the_history(login, registered):
    admin = login("admin")
    change = f"/admin/releases/repository/{registered.pk}/change/"
    page = admin.get(change)
    assert b"archive_with_reason" in page.content
    response = admin.post_form(
        change,
        {
            "production_branch": registered.production_branch,
            "development_branch": registered.development_branch,
            "tag_style": registered.tag_style,
            "required_approvals": registered.required_approvals,
            "manifest_path": registered.manifest_path,
            "forge": registered.forge,
            "forge_project": registered.forge_project,
            "forge_token_env": registered.forge_token_env,
            "archive_with_reason": "moved to the new pipeline",
        },
    )
    assert response.status_code == 302
    registered.refresh_from_db()
    assert registered.is_archived and registered.archive_reason == "moved to the new pipeline"
    event = AuditEvent.objects.get(action="repository.archived")
    assert event.payload == {"reason": "moved to the new pipeline"}
    assert registered.releases.exists() and registered.branches.exists()
    # Readable, not changeable, not synced, not listed.
    viewer_page = login("viewer").get(reverse("release_list", kwargs={"name": "pipeline"}))
    assert viewer_page.status_code == 200
    overview = login("admin").get(reverse("repository_overview", kwargs={"name": "pipeline"}))
    assert b"Archived" in overview.content
    sync = login("admin").post_form(reverse("sync_now", kwargs={"name": "pipeline"}))
    assert sync.status_code == 403
    assert audit_verify().ok


def test_archiving_needs_a_reason_and_the_admin_role(registered, users):
    with pytest.raises(ActionRefused, match="reason"):
        services.repository_archive(actor=users["admin"], repository=registered, reason=" ")
    with pytest.raises(ActionRefused, match="role"):
        services.repository_archive(actor=users["rm-ana"], repository=registered, reason="x")


def test_beat_does_not_sync_an_archived_repository(registered, users, monkeypatch):
    services.repository_archive(actor=users["admin"], repository=registered, reason="gone")
    queued = []
    monkeypatch.setattr(
        "releases.tasks.repository_sync.delay", lambda **kwargs: queued.append(kwargs)
    )
    repositories_sync_all()
    assert queued == []


def test_a_non_superuser_admin_cannot_make_itself_superuser(login, users):
    admin = login("admin")
    me = users["admin"]
    page = admin.get(f"/admin/auth/user/{me.pk}/change/")
    assert page.status_code == 200
    assert b'name="is_superuser"' not in page.content
    assert b'name="user_permissions"' not in page.content
    admin.post_form(
        f"/admin/auth/user/{me.pk}/change/",
        {
            "username": "admin",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [g.pk for g in me.groups.all()],
            "last_login_0": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    me.refresh_from_db()
    assert not me.is_superuser


def test_a_superuser_cannot_grant_superuser_in_the_admin_either(client, users):
    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw-123456789")
    client.force_login(root)
    page = client.get(f"/admin/auth/user/{users['viewer'].pk}/change/")
    assert b'name="is_superuser"' not in page.content


def test_users_are_deactivated_not_deleted(login, users, registered):
    from django.db import transaction

    from releases.audit import audit_record

    with transaction.atomic():  # the viewer has audit events, as every real user does
        audit_record(actor=users["viewer"], action="test.event")
    admin = login("admin")
    viewer = users["viewer"]
    delete = admin.post_form(f"/admin/auth/user/{viewer.pk}/delete/", {"post": "yes"})
    assert delete.status_code in (302, 403)
    assert get_user_model().objects.filter(pk=viewer.pk).exists()
    response = admin.post_form(
        "/admin/auth/user/",
        {"action": "deactivate", "_selected_action": [viewer.pk], "index": 0},
    )
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert not viewer.is_active
    event = AuditEvent.objects.get(action="user.deactivated")
    assert event.object_id == str(viewer.pk) and event.actor_name == "admin"
    assert audit_verify().ok


def test_the_forge_mode_is_set_in_the_admin_and_audited(login, registered):
    admin = login("admin")
    change = f"/admin/releases/repository/{registered.pk}/change/"
    form = {
        "production_branch": registered.production_branch,
        "development_branch": registered.development_branch,
        "tag_style": registered.tag_style,
        "required_approvals": registered.required_approvals,
        "manifest_path": registered.manifest_path,
        "forge": "github",
        "forge_project": "no-slash",
        "forge_token_env": "VIEWS_GITHUB_TOKEN",
    }
    refused = admin.post_form(change, form)
    assert refused.status_code == 200
    assert b"A GitHub project is &quot;owner/repo&quot;." in refused.content
    assert admin.post_form(change, {**form, "forge_project": "views/pipeline"}).status_code == 302
    registered.refresh_from_db()
    assert (registered.forge, registered.forge_project) == ("github", "views/pipeline")
    event = AuditEvent.objects.get(action="repository.settings_changed")
    assert event.payload == {
        "forge": "github",
        "forge_project": "views/pipeline",
        "forge_token_env": "VIEWS_GITHUB_TOKEN",
    }
