"""Git writes under real faults: a slow origin, and a worker killed (SIGKILL) mid-push.

Every test here runs a real Celery worker process. The origin is a bare repository whose
hooks stand in for a slow or remote server: `pre-receive` runs before any ref moves,
`post-receive` after every ref moved.
"""

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest
from django.urls import reverse

from releases import candidates, operation_runner, sync
from releases.models import AuditEvent, Incident, Operation, PromotionCandidate, Release
from tests.promotion.conftest import make_promotable, waive
from tests.support.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def hook(world, name: str, marker: Path, seconds: int) -> None:
    """An origin hook that says it started (the marker file), then takes `seconds`."""
    path = Path(world.origin) / "hooks" / name
    path.write_text(f"#!/bin/sh\ncat >/dev/null\ntouch {marker}\nsleep {seconds}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def approved_here(world, users):
    """An approved candidate, made before the worker starts (its validation settles here)."""
    from releases import services

    make_promotable(world)
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    sync.repository_sync(repository=repository)
    candidate = candidates.candidate_create(repository=repository, actor=users["rm-ana"])
    candidate.refresh_from_db()
    if candidate.status == "validating":
        candidate.validation_run.refresh_from_db()
    waive(candidate, users)
    candidates.candidate_approve(candidate=candidate, actor=users["rm-ben"])
    candidates.candidate_approve(candidate=candidate, actor=users["admin"])
    candidate.refresh_from_db()
    assert candidate.status == "approved"
    return candidate


def operation_of(candidate) -> Operation:
    return Operation.objects.filter(candidate=candidate).latest("pk")


def test_a_slow_origin_never_holds_a_request_and_the_page_shows_progress(
    registered, users, world, login, tmp_path, celery_worker_process
):
    marker = tmp_path / "push-started"
    hook(world, "pre-receive", marker, 4)
    development_before = world.origin_git("rev-parse", "development")
    client = login("rm-ana")

    started = time.monotonic()
    response = client.post_form(reverse("back_merge", kwargs={"name": "pipeline"}))
    elapsed = time.monotonic() - started
    assert response.status_code == 302
    assert elapsed < 2, f"the request took {elapsed:.1f} s"  # the origin takes 4 s a push
    print(f"\nback-merge request against a 4 s origin: {elapsed * 1000:.0f} ms")
    operation = Operation.objects.get()
    assert response["Location"] == reverse(
        "operation_detail", kwargs={"name": "pipeline", "pk": operation.pk}
    )

    wait_for(marker.exists, timeout=60, message="the worker never pushed")
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="running"' in page
    assert "pushing refs/heads/development to the origin" in page
    assert 'hx-trigger="every 2s"' in page  # it keeps polling while the push is under way
    assert world.origin_git("rev-parse", "development") == development_before

    wait_for(
        lambda: Operation.objects.get(pk=operation.pk).status == "succeeded",
        timeout=60,
        message="the back-merge did not finish",
    )
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="succeeded"' in page and 'hx-trigger="every 2s"' not in page
    operation.refresh_from_db()
    assert world.origin_git("rev-parse", "development") == operation.result["merge"]
    assert AuditEvent.objects.filter(action="development.back_merged").count() == 1


def test_sigkill_before_the_refs_land_fails_the_promotion_on_reconcile(
    approved_here, users, world, login, tmp_path, settings, celery_worker_process
):
    marker = tmp_path / "push-started"
    hook(world, "pre-receive", marker, 120)
    production_before = world.origin_git("rev-parse", "production")
    candidates.candidate_promote(candidate=approved_here, actor=users["rm-ben"])
    wait_for(marker.exists, timeout=60, message="the worker never pushed")
    operation = operation_of(approved_here)
    assert operation.status == "running" and operation.planned

    celery_worker_process.kill()  # the worker, git push and the origin's receive-pack
    approved_here.refresh_from_db()
    assert approved_here.status == "promoting"
    admin = login("admin")
    url = reverse("operation_reconcile", kwargs={"name": "pipeline", "pk": operation.pk})

    # Its last word is fresh: it might still be pushing, so the button refuses for now.
    response = admin.post_form(url, follow=True)
    assert "may still be pushing" in response.content.decode()
    assert Operation.objects.get(pk=operation.pk).status == "running"
    assert login("rm-ana").post_form(url).status_code == 403  # admins only

    settings.EWSDASH_OPERATION_STALE_AFTER = 0
    page = admin.post_form(url, follow=True).content.decode()
    assert "Reconciled with the origin" in page
    operation.refresh_from_db()
    assert (operation.status, operation.reconciled) == ("failed", True)
    assert "nothing was pushed" in operation.error
    approved_here.refresh_from_db()
    assert approved_here.status == "promotion_failed"
    assert world.origin_git("rev-parse", "production") == production_before
    assert world.origin_git("tag", "-l") == "v1.0.0"
    assert not Release.objects.filter(version=approved_here.version).exists()
    event = AuditEvent.objects.get(action="operation.reconciled")
    assert event.actor_name == "admin" and event.payload["outcome"] == "failed"

    # Nothing is stuck: the same candidate promotes again once the origin is well.
    os.remove(Path(world.origin) / "hooks" / "pre-receive")
    candidates.candidate_promote(candidate=approved_here, actor=users["rm-ben"])
    assert operation_runner.promotion_run(candidate_id=approved_here.pk).startswith(
        "released v1.1.0"
    )


def test_sigkill_after_the_push_landed_is_finished_by_the_reaper(
    approved_here, users, world, tmp_path, settings, celery_worker_process
):
    marker = tmp_path / "refs-moved"
    hook(world, "post-receive", marker, 120)
    candidates.candidate_promote(candidate=approved_here, actor=users["rm-ben"])
    wait_for(marker.exists, timeout=60, message="the push never landed")
    celery_worker_process.kill()
    operation = operation_of(approved_here)
    assert operation.status == "running"
    merge = world.origin_git("rev-parse", "production")
    assert world.origin_git("rev-parse", "v1.1.0^{commit}") == merge

    # A beat sync before the reaper sees production moved by our planned push: no incident.
    sync.repository_sync(repository=approved_here.repository, force=True)
    assert not Incident.objects.exists()

    settings.EWSDASH_OPERATION_STALE_AFTER = 0
    outcome = operation_runner.operations_reap_stale()
    assert outcome["reconciled"] == [operation.pk]
    operation.refresh_from_db()
    assert (operation.status, operation.reconciled) == ("succeeded", True)
    approved_here.refresh_from_db()
    assert approved_here.status == "released"
    release = Release.objects.get(version="1.1.0")
    assert (release.commit, release.kind, approved_here.release) == (merge, "promotion", release)
    assert AuditEvent.objects.filter(action="candidate.released").count() == 1
    # A second sweep, or a late redelivery of the message, changes nothing.
    assert operation_runner.operations_reap_stale()["reconciled"] == []
    assert "nothing to do" in operation_runner.operation_run(operation_id=operation.pk)
    assert Release.objects.filter(version="1.1.0").count() == 1


def slow_upload_pack(repository, marker: Path, seconds: int) -> None:
    """The origin answers every fetch and ls-remote `seconds` late (git runs this command
    as the origin's upload-pack), and says it was asked (the marker file)."""
    from releases.clones import clone_dir

    command = f"touch {marker}; sleep {seconds}; git-upload-pack"
    subprocess.run(
        ["git", "config", "remote.origin.uploadpack", command],
        cwd=clone_dir(repository.name),
        check=True,
    )


def test_creating_a_candidate_against_a_slow_origin_returns_at_once(
    registered, users, world, login, tmp_path, celery_worker_process
):
    marker = tmp_path / "fetch-started"
    slow_upload_pack(registered, marker, 5)
    development = world.origin_git("rev-parse", "development").strip()
    client = login("rm-ana")

    started = time.monotonic()
    response = client.post_form(
        reverse("candidate_create", kwargs={"name": "pipeline"}), {"source": "development"}
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 302
    assert elapsed < 2.5, f"the request took {elapsed:.1f} s"  # each fetch takes 5 s
    print(f"\ncandidate request against a 5 s origin: {elapsed * 1000:.0f} ms")
    operation = Operation.objects.get(kind="candidate_create")
    assert response["Location"] == reverse(
        "operation_detail", kwargs={"name": "pipeline", "pk": operation.pk}
    )
    assert not PromotionCandidate.objects.exists()

    wait_for(marker.exists, timeout=60, message="the worker never asked the origin")
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="running"' in page and 'hx-trigger="every 2s"' in page
    assert "syncing with the origin" in page

    wait_for(
        lambda: Operation.objects.get(pk=operation.pk).status == "succeeded",
        timeout=90,
        message="the candidate was not created",
    )
    candidate = PromotionCandidate.objects.get()
    assert candidate.commit == development and candidate.validation_run is not None
    operation.refresh_from_db()
    assert operation.candidate == candidate and operation.result["candidate"] == candidate.pk
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="operation-candidate"' in page and 'hx-trigger="every 2s"' not in page
    assert AuditEvent.objects.filter(action="candidate.created").count() == 1


def test_a_candidate_creation_whose_worker_died_is_failed_by_the_reaper(
    registered, users, world, tmp_path, settings, celery_worker_process
):
    marker = tmp_path / "fetch-started"
    slow_upload_pack(registered, marker, 120)
    operation = candidates.candidate_request(repository=registered, actor=users["rm-ana"])
    wait_for(marker.exists, timeout=60, message="the worker never asked the origin")
    celery_worker_process.kill()

    settings.EWSDASH_OPERATION_STALE_AFTER = 0
    outcome = operation_runner.operations_reap_stale()

    assert outcome["reconciled"] == [operation.pk]
    operation.refresh_from_db()
    assert operation.status == "failed" and operation.reconciled
    assert "before it recorded anything; nothing was created" in operation.error
    assert not PromotionCandidate.objects.exists()
    assert AuditEvent.objects.filter(action="operation.reconciled").count() == 1


def test_a_candidate_creation_the_origin_refuses_fails_with_the_reason(
    registered, users, world, celery_worker_process
):
    operation = candidates.candidate_request(
        repository=registered, actor=users["rm-ana"], source_branch="hotfix/never-pushed"
    )
    wait_for(
        lambda: Operation.objects.get(pk=operation.pk).status == "failed",
        timeout=60,
        message="the operation did not fail",
    )
    operation.refresh_from_db()
    assert operation.error == "There is no branch 'hotfix/never-pushed' at the origin."
    assert not PromotionCandidate.objects.exists()
