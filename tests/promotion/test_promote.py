"""Promotion against a real bare origin: merge --no-ff, annotated tag, atomic push."""

import stat

import pytest

from releases import attestation_verify, candidates, freezes, operation_runner, promotion, sync
from releases.clones import clone_dir
from releases.errors import ActionRefused
from releases.models import AuditEvent, PromotionCandidate, Release
from tests.promotion.factories import gates_of
from tests.support.queued import enqueued

pytestmark = pytest.mark.django_db


def promote(candidate, user, capture):
    with capture(execute=False) as callbacks:
        candidates.candidate_promote(candidate=candidate, actor=user)
    # The task is queued once committed (beside the audit anchor, also written on commit).
    assert len(enqueued(callbacks)) == 1
    return operation_runner.promotion_run(candidate_id=candidate.pk)


def local_tags() -> set[str]:
    import subprocess

    out = subprocess.run(
        ["git", "--git-dir", str(clone_dir("pipeline")), "tag"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(out.split())


def test_it_merges_the_frozen_commit_tags_and_pushes(
    approved, users, world, django_capture_on_commit_callbacks
):
    production_before = world.origin_git("rev-parse", "production")
    # New work on development after the freeze must not be released.
    world.checkout("development")
    world.commit("feat: not part of the candidate")
    world.push("development")

    result = promote(approved, users["rm-ben"], django_capture_on_commit_callbacks)
    assert result.startswith("released v1.1.0")

    merge = world.origin_git("rev-parse", "production")
    parents = world.origin_git("rev-list", "--parents", "-n", "1", merge).split()[1:]
    assert parents == [production_before, approved.commit]
    assert world.origin_git("cat-file", "-t", "v1.1.0") == "tag"
    assert world.origin_git("rev-parse", "v1.1.0^{commit}") == merge
    message = world.origin_git("tag", "-l", "--format=%(contents)", "v1.1.0")
    assert f"Candidate: #{approved.pk}" in message
    assert "Approved by: admin, rm-ben" in message
    assert "Validation: " in message and "waived" in message

    approved.refresh_from_db()
    assert approved.status == "released"
    release = Release.objects.get(version="1.1.0")
    assert (release.commit, release.kind, release.released_by) == (
        merge,
        "promotion",
        users["rm-ben"],
    )
    assert approved.release == release
    assert AuditEvent.objects.filter(action="candidate.released").count() == 1


def test_running_the_task_twice_releases_once(
    approved, users, world, django_capture_on_commit_callbacks
):
    promote(approved, users["rm-ben"], django_capture_on_commit_callbacks)
    again = operation_runner.promotion_run(candidate_id=approved.pk)
    assert "nothing to do" in again
    assert Release.objects.filter(version="1.1.0").count() == 1
    assert world.origin_git("tag", "-l").split() == ["v1.0.0", "v1.1.0"]


def test_a_redelivered_task_after_the_push_finishes_the_record(
    approved, users, world, django_capture_on_commit_callbacks
):
    """The worker died after pushing but before recording: the retry recognises its tag."""
    with django_capture_on_commit_callbacks(execute=False):
        candidates.candidate_promote(candidate=approved, actor=users["rm-ben"])
    approved.refresh_from_db()
    merge, tag = promotion.promotion_merge_and_tag(candidate=approved)
    assert operation_runner.promotion_run(candidate_id=approved.pk).startswith("released v1.1.0")
    release = Release.objects.get(version="1.1.0")
    assert release.commit == merge
    # The attestation the dead worker pushed is recorded from the origin, and holds.
    assert release.attestation.git_commit == world.origin_git(
        "rev-parse", "refs/ewsdash/attestations/1.1.0"
    )
    verified = attestation_verify.attestation_verify(release=release)
    assert verified.ok, verified.failures


def test_a_double_promote_is_refused(approved, users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        candidates.candidate_promote(candidate=approved, actor=users["rm-ben"])
        with pytest.raises(ActionRefused, match="promotion is under way"):
            candidates.candidate_promote(candidate=approved, actor=users["admin"])


def test_development_behind_production_fails_the_gate(
    repo, users, world, django_capture_on_commit_callbacks
):
    from releases import candidates

    # development and production change the same file differently.
    world.checkout("development")
    world.commit("feat: dev edit", files={"README.md": "development says hello\n"})
    world.push("development")
    world.checkout("production")
    world.commit("fix: prod edit", files={"README.md": "production says hello\n"})
    world.push("production")
    sync.repository_sync(repository=repo)
    with django_capture_on_commit_callbacks(execute=False):
        candidate = candidates.candidate_create(repository=repo, actor=users["rm-ana"])
    candidate.refresh_from_db()
    # The gate already sees that development lacks production's head.
    gates = {g.key: g.ok for g in gates_of(candidate)}
    assert gates["contains_production"] is False


def test_production_moving_after_approval_fails_the_promotion_and_leaves_nothing(
    approved, users, world, django_capture_on_commit_callbacks
):
    """A candidate containing production merges without conflict; if production moved
    on (here with a conflicting change) the merge is refused before it is attempted."""
    production_before = world.origin_git("rev-parse", "production")
    # Production moves after approval with a conflicting change.
    world.checkout("production")
    world.commit("fix: conflicting prod edit", files={"models/lavender_haze/c.py": "x=99\n"})
    world.push("production")
    refs_before = world.origin_git("for-each-ref")
    local_before = local_tags()
    result = promote(approved, users["rm-ben"], django_capture_on_commit_callbacks)
    assert "failed" in result
    approved.refresh_from_db()
    assert approved.status == "promotion_failed"
    assert "which the candidate does not contain" in approved.status_reason
    assert world.origin_git("for-each-ref") == refs_before
    assert local_tags() == local_before
    assert not Release.objects.filter(version="1.1.0").exists()
    assert world.origin_git("rev-parse", "production") != production_before


def test_a_push_refused_by_the_origin_leaves_nothing(
    approved, users, world, django_capture_on_commit_callbacks
):
    hook = world.origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'production is protected today' >&2\nexit 1\n")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    refs_before = world.origin_git("for-each-ref")
    result = promote(approved, users["rm-ben"], django_capture_on_commit_callbacks)
    assert "failed" in result
    approved.refresh_from_db()
    assert approved.status == "promotion_failed"
    assert "production is protected today" in approved.promotion_error
    assert world.origin_git("for-each-ref") == refs_before
    assert "v1.1.0" not in local_tags()
    assert not Release.objects.filter(version="1.1.0").exists()

    hook.unlink()
    result = promote(approved, users["rm-ben"], django_capture_on_commit_callbacks)
    assert result.startswith("released v1.1.0")  # a failed promotion can be retried


def test_gates_block_promotion_with_a_clear_message(validated, users):
    candidates.candidate_approve(candidate=validated, actor=users["rm-ben"])
    with pytest.raises(ActionRefused, match=r"Still missing: Approvals: 1 of 2\."):
        candidates.candidate_promote(candidate=validated, actor=users["rm-ben"])
    validated.refresh_from_db()
    assert validated.status == "validated"


def test_a_freeze_blocks_promotion(approved, users, repo):
    from datetime import timedelta

    from django.utils import timezone

    from releases import candidates

    freezes.freeze_create(
        repository=repo,
        actor=users["admin"],
        reason="election week",
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(days=2),
    )
    with pytest.raises(ActionRefused, match="election week"):
        candidates.candidate_promote(candidate=approved, actor=users["rm-ben"])
    approved.refresh_from_db()
    assert approved.status == "approved"


def test_only_one_candidate_promotes_at_a_time_in_the_database(approved, repo, users):
    from django.db import IntegrityError, transaction

    PromotionCandidate.objects.filter(pk=approved.pk).update(status="promoting")
    with pytest.raises(IntegrityError), transaction.atomic():
        PromotionCandidate.objects.create(
            repository=repo,
            kind="promotion",
            source_branch="development",
            commit="a" * 40,
            production_head="b" * 40,
            checked_production_head="b" * 40,
            version="9.0.0",
            proposed_version="9.0.0",
            bump="major",
            created_by=users["rm-ana"],
            status="promoting",
        )
