"""Creating a candidate freezes a commit, proposes a version, and starts validation."""

import pytest

from releases import candidates, sync
from releases.errors import ActionRefused
from releases.models import AuditEvent, PromotionCandidate
from tests.promotion.factories import live_approvals

pytestmark = pytest.mark.django_db


def test_it_freezes_development_head_and_production_head(candidate, world):
    assert candidate.commit == world.head("development")
    assert candidate.production_head == world.head("production")
    assert candidate.contains_production_head
    assert candidate.source_branch == "development"
    assert candidate.kind == "promotion"


def test_it_proposes_a_minor_version_with_a_changelog(candidate):
    # The basic world was released as v1.0.0; development brings features since.
    assert candidate.version == candidate.proposed_version == "1.1.0"
    assert (candidate.base_version, candidate.bump) == ("1.0.0", "minor")
    subjects = [entry["subject"] for entry in candidate.changelog]
    assert "add lavender_haze" in subjects


def test_without_a_manifest_validation_fails_as_not_declared(candidate):
    assert candidate.status == "validation_failed"
    assert "no validation declared" in candidate.status_reason


def test_a_version_override_may_only_go_up(repo, users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        raised = candidates.candidate_create(
            repository=repo, actor=users["rm-ana"], version="2.0.0"
        )
    assert raised.version == "2.0.0"
    with pytest.raises(ActionRefused, match="lower"):
        candidates.candidate_create(repository=repo, actor=users["rm-ana"], version="1.0.5")
    with pytest.raises(ActionRefused):
        candidates.candidate_create(repository=repo, actor=users["rm-ana"], version="banana")


def test_a_newer_candidate_supersedes_the_older_and_voids_its_decisions(
    validated, repo, users, world, django_capture_on_commit_callbacks
):
    candidates.candidate_approve(candidate=validated, actor=users["rm-ben"])
    world.checkout("development")
    world.commit("fix: one more")
    world.push("development")
    with django_capture_on_commit_callbacks(execute=False):
        newer = candidates.candidate_create(repository=repo, actor=users["rm-ana"])
    validated.refresh_from_db()
    assert validated.status == "superseded"
    assert f"#{newer.pk}" in validated.status_reason
    assert live_approvals(validated) == []
    assert newer.commit == world.head("development")
    assert live_approvals(newer) == []  # approvals never carry over


def test_new_commits_on_the_branch_do_not_change_the_candidate(candidate, repo, world):

    frozen = candidate.commit
    world.checkout("development")
    world.commit("feat: after the freeze")
    world.commit("fix: and another")
    world.push("development")
    sync.repository_sync(repository=repo)
    candidate.refresh_from_db()
    assert candidate.commit == frozen
    assert candidate.branch_moved_by == 2


def test_a_rewritten_branch_supersedes_the_candidate(candidate, repo, world):

    world.checkout("development")
    world.git("reset", "--hard", "HEAD~1")
    world.commit("feat: rewritten history")
    world.push("development")
    sync.repository_sync(repository=repo)
    candidate.refresh_from_db()
    assert candidate.status == "superseded"
    assert "history rewritten" in candidate.status_reason


def test_a_hotfix_branch_gives_a_patch_candidate(
    repo, users, world, django_capture_on_commit_callbacks
):
    from releases import candidates

    world.checkout("hotfix/next", new_from="production")
    world.commit("fix: urgent thing")
    world.push("hotfix/next")
    sync.repository_sync(repository=repo)
    with django_capture_on_commit_callbacks(execute=False):
        hotfix = candidates.candidate_create(
            repository=repo, actor=users["rm-ana"], source_branch="hotfix/next"
        )
    assert hotfix.kind == "hotfix" and hotfix.bump == "patch"


def test_a_release_branch_gives_a_promotion_candidate(
    repo, users, world, django_capture_on_commit_callbacks
):
    # views-stepshifter released 1.4.0 from release/bump-1.4.0.
    world.checkout("release/bump-1.1.0", new_from="development")
    world.commit("chore: bump the version to 1.1.0", files={"VERSION": "1.1.0\n"})
    world.push("release/bump-1.1.0")
    sync.repository_sync(repository=repo)
    with django_capture_on_commit_callbacks(execute=False):
        made = candidates.candidate_create(
            repository=repo, actor=users["rm-ana"], source_branch="release/bump-1.1.0"
        )
    assert (made.kind, made.source_branch) == ("promotion", "release/bump-1.1.0")


def test_other_branches_cannot_be_candidates(repo, users):
    with pytest.raises(
        ActionRefused,
        match=r"from development or a release/\* or hotfix/\* branch, not 'feature/open-work'",
    ):
        candidates.candidate_create(
            repository=repo, actor=users["rm-ana"], source_branch="feature/open-work"
        )
    assert not PromotionCandidate.objects.exists()


@pytest.mark.parametrize("username", ["analyst", "viewer", "outsider"])
def test_only_release_managers_and_admins_create(repo, users, username):
    with pytest.raises(ActionRefused, match="does not allow"):
        candidates.candidate_create(repository=repo, actor=users[username])
    assert not AuditEvent.objects.filter(action="candidate.created").exists()


def test_illegal_transitions_are_refused_by_the_one_checker():
    from releases.workflow import IllegalTransition, check_transition

    with pytest.raises(IllegalTransition):
        check_transition("released", "promoting")
    with pytest.raises(IllegalTransition):
        check_transition("promoting", "cancelled")
    with pytest.raises(IllegalTransition):
        check_transition("validating", "approved")
    check_transition("approved", "promoting")
