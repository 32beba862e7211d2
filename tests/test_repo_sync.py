"""Branch sync on real git repositories made in the test, checked against git itself."""

import pytest

from releases import clones, sync
from releases.models import AuditEvent, Branch

pytestmark = pytest.mark.django_db


def branch(repository, name) -> Branch:
    return Branch.objects.get(repository=repository, name=name)


def test_it_records_every_branch_with_its_kind(registered):
    kinds = dict(Branch.objects.filter(repository=registered).values_list("name", "kind"))
    assert kinds == {
        "production": "production",
        "development": "development",
        "feature/drift": "feature",
        "feature/open-work": "feature",
        "hotfix/urgent": "hotfix",
    }


def test_divergence_matches_git_rev_list(registered, world):
    for b in Branch.objects.filter(repository=registered):
        assert (b.ahead_of_production, b.behind_production) == world.divergence(
            "production", b.name
        ), b.name
        assert (b.ahead_of_development, b.behind_development) == world.divergence(
            "development", b.name
        ), b.name
    development = branch(registered, "development")
    # The hotfix went to production only: development is behind by it and its merge.
    assert development.behind_production == 2
    assert development.ahead_of_production == 3  # two commits and the merge of the feature


def test_it_records_head_author_date_and_subject(registered, world):
    open_work = branch(registered, "feature/open-work")
    assert open_work.head == world.head("feature/open-work")
    assert open_work.subject == "fix: second commit in review"
    assert open_work.author_name == "Pat Author"
    assert open_work.author_email == "pat@pipeline.example"
    assert open_work.committed_at is not None


def test_a_merged_feature_is_marked_merged(registered):
    assert branch(registered, "feature/drift").is_merged
    assert not branch(registered, "feature/open-work").is_merged


def test_a_deleted_branch_is_marked_gone_not_deleted(registered, world):
    world.delete_remote_branch("feature/open-work")
    outcome = sync.repository_sync(repository=registered)
    assert outcome.gone == ["feature/open-work"]
    gone = branch(registered, "feature/open-work")
    assert gone.is_gone
    assert gone.head  # the last known head stays on record


def test_a_branch_that_comes_back_is_live_again(registered, world):
    world.delete_remote_branch("feature/open-work")
    sync.repository_sync(repository=registered)
    world.push("feature/open-work")
    sync.repository_sync(repository=registered)
    assert not branch(registered, "feature/open-work").is_gone


def test_new_commits_move_heads_and_counts(registered, world):
    world.checkout("development")
    world.commit("feat: more work")
    world.push("development")
    outcome = sync.repository_sync(repository=registered)
    assert outcome.moved == ["development"]
    development = branch(registered, "development")
    assert development.head == world.head("development")
    assert development.ahead_of_production == 4
    # Counts of unmoved branches against the moved development are recomputed too.
    assert (branch(registered, "feature/drift").behind_development) == world.divergence(
        "development", "feature/drift"
    )[1]


def test_an_unchanged_origin_resyncs_without_changes_or_audit(registered):
    events = AuditEvent.objects.count()
    outcome = sync.repository_sync(repository=registered)
    assert not outcome.changed and not outcome.error
    assert AuditEvent.objects.count() == events


def test_unicode_and_markup_in_subjects_are_kept_verbatim(registered, world):
    world.checkout("feature/open-work")
    world.commit("feat: <script>alert('x')</script> Ünïcödé ✓ 北京")
    world.push("feature/open-work")
    sync.repository_sync(repository=registered)
    assert branch(registered, "feature/open-work").subject == (
        "feat: <script>alert('x')</script> Ünïcödé ✓ 北京"
    )


def test_invalid_utf8_in_a_subject_does_not_break_sync(registered, world):
    world.checkout("feature/open-work")
    world.commit(b"fix: bad bytes \xff\xfe here\n")
    world.push("feature/open-work")
    outcome = sync.repository_sync(repository=registered)
    assert not outcome.error
    assert "bad bytes" in branch(registered, "feature/open-work").subject


def test_a_missing_clone_is_rebuilt_from_the_origin(registered):
    import shutil

    shutil.rmtree(clones.clone_dir(registered.name))
    outcome = sync.repository_sync(repository=registered)
    assert not outcome.error
    assert Branch.objects.filter(repository=registered, gone_at=None).count() == 5


def test_an_unreachable_origin_keeps_the_error_and_the_branches(registered, world):
    import shutil

    shutil.rmtree(world.origin)
    before = list(Branch.objects.filter(repository=registered).values_list("name", "head"))
    outcome = sync.repository_sync(repository=registered)
    assert "does not appear to be a git repository" in outcome.error
    registered.refresh_from_db()
    assert "does not appear to be a git repository" in registered.last_sync_error
    after = list(Branch.objects.filter(repository=registered).values_list("name", "head"))
    assert before == after
    assert AuditEvent.objects.filter(action="repository.sync_failed").count() == 1


def test_a_production_branch_deleted_at_the_origin_is_an_error(registered, world):
    world.delete_remote_branch("development")
    outcome = sync.repository_sync(repository=registered)
    assert "no branch 'development'" in outcome.error
    assert not branch(registered, "development").is_gone
