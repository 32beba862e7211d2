"""Production moving outside ewsdash is an incident: shown, audited, blocking, acknowledged."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from releases import candidates, operation_runner, sync
from releases.errors import ActionRefused
from releases.models import AuditEvent, Incident, Release
from tests.promotion.factories import carry_out

pytestmark = pytest.mark.django_db


def push_to_production_directly(world, tag: str = "") -> str:
    """Somebody with push rights commits straight to production (and maybe tags it)."""
    world.checkout("production")
    world.commit("fix: pushed by hand", files={"by_hand.py": "x = 1\n"})
    world.push("production")
    if tag:
        world.git("tag", "-a", tag, "-m", tag)
        world.git("push", "--quiet", "origin", tag)
    return world.origin_git("rev-parse", "production")


def status_json() -> dict:
    out = StringIO()
    call_command("repo", "status", "pipeline", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_a_direct_push_to_production_opens_an_incident_that_blocks_promotion(
    approved, repo, users, world, login, django_capture_on_commit_callbacks
):
    before = world.origin_git("rev-parse", "production")
    head = push_to_production_directly(world, tag="v1.0.1")
    sync.repository_sync(repository=repo)

    incident = Incident.objects.get()
    assert (incident.kind, incident.commit, incident.previous_commit) == (
        "production_moved_outside",
        head,
        before,
    )
    assert incident.ref == "refs/heads/production" and incident.is_open
    opened = AuditEvent.objects.get(action="incident.opened")
    assert opened.payload["commit"] == head

    # Shown on every page, to every role.
    viewer = login("viewer")
    for name, kwargs in [
        ("repository_overview", {"name": "pipeline"}),
        ("branch_list", {"name": "pipeline"}),
        ("release_list", {"name": "pipeline"}),
        ("audit", {}),
        ("candidate_detail", {"name": "pipeline", "pk": approved.pk}),
    ]:
        html = viewer.get(reverse(name, kwargs=kwargs)).content.decode()
        assert 'data-testid="incident-banner"' in html, name
        assert head[:10] in html

    # Promotion is refused, and the candidate page says why.
    with pytest.raises(ActionRefused, match="No open incident: incident #"):
        candidates.candidate_promote(candidate=approved, actor=users["rm-ben"])
    page = login("rm-ben").get(
        reverse("candidate_detail", kwargs={"name": "pipeline", "pk": approved.pk})
    )
    assert "an admin must adopt it or roll it back" in page.content.decode()

    # repo status --json lists it.
    listed = status_json()["incidents"]
    assert [
        (i["kind"], i["commit"], i["ref"], i["acknowledged_by"], i["reason"]) for i in listed
    ] == [("production_moved_outside", head, "refs/heads/production", None, "")]
    assert listed[0]["opened_at"]
    out = StringIO()
    call_command("repo", "status", "pipeline", stdout=out)
    assert f"OPEN INCIDENT #{incident.pk}: production_moved_outside" in out.getvalue()

    # Only an admin acknowledges, and only with a reason.
    url = reverse("incident_acknowledge", kwargs={"name": "pipeline", "pk": incident.pk})
    assert (
        login("rm-ana").post_form(url, {"resolution": "adopted", "reason": "x"}).status_code == 403
    )
    admin = login("admin")
    html = admin.post_form(url, {"resolution": "adopted", "reason": ""}, follow=True)
    assert "needs a reason" in html.content.decode()
    assert Incident.objects.get().is_open
    admin.post_form(url, {"resolution": "adopted", "reason": "emergency fix by the on-call"})

    incident.refresh_from_db()
    assert not incident.is_open and incident.acknowledged_by == users["admin"]
    assert incident.resolution == "adopted"
    event = AuditEvent.objects.get(action="incident.acknowledged")
    assert event.payload["reason"] == "emergency fix by the on-call"
    assert 'data-testid="incident-banner"' not in viewer.get("/audit/").content.decode()
    assert status_json()["incidents"][0]["acknowledged_by"] == "admin"
    # The adopted tag was imported as a release by the sync.
    assert Release.objects.get(version="1.0.1").commit == head


def test_an_incident_rolled_back_restores_the_previous_release(repo, users, world, login):
    v100 = Release.objects.get(version="1.0.0")
    before = world.origin_git("rev-parse", "production")
    push_to_production_directly(world)
    sync.repository_sync(repository=repo)
    incident = Incident.objects.get()
    assert incident.previous_commit == before

    page = login("admin").get(reverse("incident_list", kwargs={"name": "pipeline"}))
    html = page.content.decode()
    assert 'data-open="1"' in html

    url = reverse("incident_acknowledge", kwargs={"name": "pipeline", "pk": incident.pk})
    response = login("admin").post_form(
        url, {"resolution": "rolled_back", "rollback_to": "1.0.0", "reason": "not approved"}
    )
    incident.refresh_from_db()
    assert incident.resolution == "rolled_back" and incident.operation is not None
    assert response["Location"] == reverse(
        "operation_detail", kwargs={"name": "pipeline", "pk": incident.operation.pk}
    )
    operation = carry_out(incident.operation)
    assert operation.status == "succeeded", operation.error
    head = world.origin_git("rev-parse", "production")
    assert world.origin_git("rev-parse", f"{head}^{{tree}}") == world.origin_git(
        "rev-parse", f"{v100.commit}^{{tree}}"
    )
    # Our own rollback moved production: no new incident.
    assert Incident.objects.count() == 1


def test_production_moved_by_ewsdash_is_no_incident(
    approved, repo, users, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        candidates.candidate_promote(candidate=approved, actor=users["rm-ben"])
    assert operation_runner.promotion_run(candidate_id=approved.pk).startswith("released")
    sync.repository_sync(repository=repo, force=True)
    assert not Incident.objects.exists()


def test_a_release_tag_moved_at_the_origin_is_an_incident(registered, world):
    world.git("tag", "-f", "-a", "v1.0.0", "-m", "moved", "development")
    world.git("push", "--quiet", "--force", "origin", "v1.0.0")
    sync.repository_sync(repository=registered, force=True)
    incident = Incident.objects.get()
    assert incident.kind == "release_tag_moved"
    assert incident.ref == "refs/tags/v1.0.0"
    assert incident.commit == world.origin_git("rev-parse", "v1.0.0^{commit}")
