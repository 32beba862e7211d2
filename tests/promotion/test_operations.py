"""Rollback, hotfix branches and the production → development back-merge, at the origin."""

from datetime import timedelta

import pytest
from django.utils import timezone

from releases import candidates, freezes, gates, operation_runner, operations, sync
from releases.errors import ActionRefused
from releases.models import AuditEvent, Release
from tests.promotion.factories import carried_out, carry_out

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_releases(approved, users, world, repo, django_capture_on_commit_callbacks):
    """v1.1.0 promoted, then a second change promoted as v1.2.0 (v1.0.0 was imported)."""
    with django_capture_on_commit_callbacks(execute=False):
        candidates.candidate_promote(candidate=approved, actor=users["rm-ben"])
    operation_runner.promotion_run(candidate_id=approved.pk)
    world.git("fetch", "--quiet", "origin")
    world.checkout("development")
    world.git("merge", "--quiet", "--no-ff", "-m", "Merge production", "origin/production")
    world.commit("feat(models): retrain purple_alien", files={"models/purple_alien/a.py": "x=2\n"})
    world.push("development")
    sync.repository_sync(repository=repo)
    with django_capture_on_commit_callbacks(execute=False):
        second = candidates.candidate_create(repository=repo, actor=users["rm-ana"])
    second.refresh_from_db()
    candidates.candidate_waive_validation(candidate=second, actor=users["admin"], reason="test")
    candidates.candidate_approve(candidate=second, actor=users["rm-ben"])
    candidates.candidate_approve(candidate=second, actor=users["admin"])
    with django_capture_on_commit_callbacks(execute=False):
        candidates.candidate_promote(candidate=second, actor=users["rm-ben"])
    assert operation_runner.promotion_run(candidate_id=second.pk).startswith("released v1.2.0")
    return Release.objects.get(version="1.1.0"), Release.objects.get(version="1.2.0")


def test_rollback_preview_lists_commits_models_and_versions(two_releases, repo):
    v110, v120 = two_releases
    preview = operations.rollback_preview(repository=repo, target=v110)
    assert preview.version == "1.2.1"
    assert preview.versions_undone == ["1.2.0"]
    assert "models/purple_alien" in preview.models
    assert any("retrain purple_alien" in c["subject"] for c in preview.commits)


def test_rollback_adds_one_commit_with_the_old_tree_and_keeps_history(
    two_releases, repo, users, world
):
    v110, v120 = two_releases
    head_before = world.origin_git("rev-parse", "production")
    operation = operations.release_rollback(
        repository=repo,
        target=v110,
        actor=users["admin"],
        reason="v1.2.0 doubles the fatalities forecast",
    )
    # Recorded and queued; nothing is at the origin until a worker carries it out.
    assert (operation.status, operation.kind) == ("queued", "rollback")
    assert world.origin_git("rev-parse", "production") == head_before
    operation = carry_out(operation)
    assert operation.status == "succeeded", operation.error
    rollback = Release.objects.get(pk=operation.result["release_id"])
    head = world.origin_git("rev-parse", "production")
    assert world.origin_git("rev-parse", f"{head}^") == head_before  # no history rewritten
    assert world.origin_git("rev-parse", f"{head}^{{tree}}") == world.origin_git(
        "rev-parse", "v1.1.0^{tree}"
    )
    assert world.origin_git("rev-parse", "v1.2.1^{commit}") == head
    message = world.origin_git("tag", "-l", "--format=%(contents)", "v1.2.1")
    assert "v1.1.0" in message and "v1.2.0" in message
    assert (rollback.kind, rollback.restores, rollback.rolls_back) == ("rollback", v110, v120)
    v120.refresh_from_db()
    assert v120.rolled_back_by == rollback
    event = AuditEvent.objects.get(action="release.rolled_back")
    assert event.payload["reason"] == "v1.2.0 doubles the fatalities forecast"


def test_rollback_is_for_admins_and_needs_a_reason(two_releases, repo, users):
    v110, _ = two_releases
    with pytest.raises(ActionRefused, match="does not allow"):
        operations.release_rollback(repository=repo, target=v110, actor=users["rm-ben"], reason="x")
    with pytest.raises(ActionRefused, match="needs a reason"):
        operations.release_rollback(repository=repo, target=v110, actor=users["admin"], reason="")


def test_a_freeze_blocks_rollback_unless_the_glass_is_broken(two_releases, repo, users):
    v110, _ = two_releases
    freezes.freeze_create(
        repository=repo,
        actor=users["admin"],
        reason="model review",
        starts_at=timezone.now() - timedelta(minutes=5),
        ends_at=timezone.now() + timedelta(hours=5),
    )
    with pytest.raises(ActionRefused, match="break the glass"):
        operations.release_rollback(
            repository=repo, target=v110, actor=users["admin"], reason="bad forecast"
        )
    carry_out(
        operations.release_rollback(
            repository=repo,
            target=v110,
            actor=users["admin"],
            reason="bad forecast",
            break_glass_reason="forecast is wrong",
        )
    )
    event = AuditEvent.objects.get(action="release.rolled_back")
    assert event.payload["break_glass"] == "forecast is wrong"


def test_hotfix_cut_creates_the_branch_at_the_origin_from_production(repo, users, world):
    operation = carry_out(
        operations.hotfix_cut(repository=repo, actor=users["rm-ana"], name="fix-missing-countries")
    )
    assert operation.status == "succeeded", operation.error
    branch = operation.params["branch"]
    assert branch == "hotfix/fix-missing-countries"
    assert world.origin_git("rev-parse", branch) == world.origin_git("rev-parse", "production")
    with pytest.raises(ActionRefused, match="already exists"):
        operations.hotfix_cut(repository=repo, actor=users["rm-ana"], name="fix-missing-countries")
    with pytest.raises(ActionRefused, match="lower-case"):
        operations.hotfix_cut(repository=repo, actor=users["rm-ana"], name="../../evil name")
    with pytest.raises(ActionRefused, match="does not allow"):
        operations.hotfix_cut(repository=repo, actor=users["analyst"], name="nope")


def test_back_merge_pushes_a_real_merge_commit_on_development(registered, users, world):
    production = world.origin_git("rev-parse", "production")
    development = world.origin_git("rev-parse", "development")
    operation = carry_out(
        operations.production_merge_into_development(repository=registered, actor=users["rm-ana"])
    )
    merge = operation.result["merge"]
    assert world.origin_git("rev-parse", "development") == merge
    assert world.origin_git("rev-list", "--parents", "-n", "1", merge).split()[1:] == [
        development,
        production,
    ]
    with pytest.raises(ActionRefused, match="already contains"):
        carried_out(
            operations.production_merge_into_development(
                repository=registered, actor=users["rm-ana"]
            )
        )


def test_a_conflicting_back_merge_pushes_nothing_and_lists_the_files(registered, users, world):
    world.checkout("development")
    world.commit("feat: dev", files={"hot.py": "development version\n"})
    world.push("development")
    refs_before = world.origin_git("for-each-ref")
    operation = carry_out(
        operations.production_merge_into_development(repository=registered, actor=users["rm-ana"])
    )
    assert operation.status == "failed"
    assert "Conflicting files: hot.py" in operation.error
    assert world.origin_git("for-each-ref") == refs_before


def test_freeze_windows_are_admin_only_and_validated(repo, users):
    now = timezone.now()
    with pytest.raises(ActionRefused, match="does not allow"):
        freezes.freeze_create(
            repository=repo,
            actor=users["rm-ana"],
            reason="x",
            starts_at=now,
            ends_at=now + timedelta(hours=1),
        )
    with pytest.raises(ActionRefused, match="end after it starts"):
        freezes.freeze_create(
            repository=repo,
            actor=users["admin"],
            reason="x",
            starts_at=now,
            ends_at=now - timedelta(hours=1),
        )
    window = freezes.freeze_create(
        repository=repo,
        actor=users["admin"],
        reason="audit",
        starts_at=now,
        ends_at=now + timedelta(hours=1),
    )
    assert gates.active_freeze(repo) == window
    freezes.freeze_end(window=window, actor=users["admin"])
    assert gates.active_freeze(repo) is None


def files_at(world, ref: str) -> dict[str, str]:
    """path -> blob id of every file at `ref` at the origin."""
    rows = world.origin_git("ls-tree", "-r", ref).splitlines()
    return {row.split("\t", 1)[1]: row.split()[2] for row in rows}


def rolled_back(two_releases, repo, users):
    v110, _ = two_releases
    operation = carry_out(
        operations.release_rollback(
            repository=repo, target=v110, actor=users["admin"], reason="bad forecast"
        )
    )
    assert operation.status == "succeeded", operation.error
    return Release.objects.get(pk=operation.result["release_id"])


def test_a_back_merge_after_a_rollback_keeps_every_file_of_the_rolled_back_release(
    two_releases, repo, users, world, login
):
    rollback = rolled_back(two_releases, repo, users)
    development_before = world.origin_git("rev-parse", "development")
    assert files_at(world, "development") == files_at(world, "v1.2.0")  # carries v1.2.0

    overview = login("rm-ana").get(f"/r/{repo.name}/").content.decode()
    assert 'data-testid="back-merge-keeps"' in overview
    assert "the rollback v1.2.1 (to v1.1.0) is recorded as merged without taking its tree" in (
        overview
    )
    assert "so development keeps v1.2.0's changes" in overview
    assert "development then loses v1.2.0's changes" in overview

    operation = carry_out(
        operations.production_merge_into_development(repository=repo, actor=users["rm-ana"])
    )
    assert operation.status == "succeeded", operation.error
    assert operation.result["rollbacks_recorded_as_merged"] == ["v1.2.1"]
    development = world.origin_git("rev-parse", "development")
    # Every file of v1.2.0, with its content: nothing was reverted on development.
    assert world.origin_git("diff", "--stat", "v1.2.0", "development") == ""
    assert files_at(world, "development") == files_at(world, "v1.2.0")
    # Git knows the rollback is merged: the next back-merge has nothing to do.
    assert world.origin_git("merge-base", "--is-ancestor", rollback.commit, development) == ""
    assert world.origin_git("rev-list", "--first-parent", f"{development_before}..{development}")
    assert world.origin_git("rev-parse", f"{development}^2") == rollback.commit
    with pytest.raises(ActionRefused, match="already contains"):
        carried_out(
            operations.production_merge_into_development(repository=repo, actor=users["rm-ana"])
        )
    event = AuditEvent.objects.filter(action="development.back_merged").latest("seq")
    assert event.payload["rollbacks_recorded_as_merged"] == ["v1.2.1"]
    assert "development keeps its content" in operation.progress


def test_a_hotfix_after_the_rollback_is_merged_and_the_rollback_still_is_not(
    two_releases, repo, users, world
):
    rolled_back(two_releases, repo, users)
    world.git("fetch", "--quiet", "origin")
    world.git("checkout", "--quiet", "-B", "production", "origin/production")
    world.commit("fix: after the rollback", files={"after_rollback.py": "y = 1\n"})
    world.push("production")
    carry_out(operations.production_merge_into_development(repository=repo, actor=users["admin"]))
    development = files_at(world, "development")
    assert "after_rollback.py" in development
    assert {k: v for k, v in development.items() if k != "after_rollback.py"} == files_at(
        world, "v1.2.0"
    )


def test_applying_the_rollback_to_development_is_a_separate_explicit_merge(
    two_releases, repo, users, world
):
    rolled_back(two_releases, repo, users)
    operation = carry_out(
        operations.production_merge_into_development(
            repository=repo, actor=users["rm-ana"], apply_rollbacks=True
        )
    )
    assert operation.status == "succeeded", operation.error
    assert operation.result["rollbacks_applied"] == ["v1.2.1"]
    # Development now has v1.1.0's content, as production does.
    assert files_at(world, "development") == files_at(world, "v1.1.0")


def test_the_reaper_sends_a_lost_message_again_and_a_duplicate_claims_nothing(
    registered, users, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from ewsdash import queue
    from releases.models import Operation

    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr("ewsdash.queue.enqueue", lambda task, **kw: sent.append((task, kw)))
    operation = operations.production_merge_into_development(
        repository=registered, actor=users["rm-ana"]
    )
    # The broker lost the first message: nothing happens until the reaper looks.
    Operation.objects.filter(pk=operation.pk).update(
        queued_at=timezone.now() - timedelta(minutes=30)
    )
    outcome = operation_runner.operations_reap_stale(resend_after=60)
    assert outcome["resent"] == [operation.pk]
    assert sent == [(queue.OPERATION_RUN, {"operation_id": operation.pk})]
    assert operation_runner.operations_reap_stale(resend_after=60)["resent"] == []
    # Both messages arrive: one worker claims it, the other finds nothing to do.
    assert operation_runner.operation_run(operation_id=operation.pk).startswith(
        "production merged into development"
    )
    assert "nothing to do" in operation_runner.operation_run(operation_id=operation.pk)
    assert AuditEvent.objects.filter(action="development.back_merged").count() == 1
