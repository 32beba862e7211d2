"""Approvals: distinct people, never the creator or (by default) an author, one each."""

import pytest

from releases import candidates, sync
from releases.errors import ActionRefused
from releases.models import Approval
from tests.promotion.factories import live_approvals

pytestmark = pytest.mark.django_db


def test_two_distinct_approvals_approve_it(validated, users):
    candidates.candidate_approve(candidate=validated, actor=users["rm-ben"], comment="looks good")
    validated.refresh_from_db()
    assert validated.status == "validated"
    candidates.candidate_approve(candidate=validated, actor=users["admin"])
    validated.refresh_from_db()
    assert validated.status == "approved"
    approval = Approval.objects.get(user=users["rm-ben"])
    assert approval.commit == validated.commit
    assert approval.validation_run_id == validated.validation_run_id


def test_the_creator_may_not_approve(validated, users):
    with pytest.raises(ActionRefused, match="You created this candidate"):
        candidates.candidate_approve(candidate=validated, actor=users["rm-ana"])
    assert not Approval.objects.exists()


def test_an_author_of_a_commit_may_not_approve_by_default(validated, users, repo):
    users["rm-ben"].email = "pat@pipeline.example"  # the test world's commit author
    users["rm-ben"].save()
    with pytest.raises(ActionRefused, match="authored or committed"):
        candidates.candidate_approve(candidate=validated, actor=users["rm-ben"])
    repo.authors_may_approve = True
    repo.save()
    validated.refresh_from_db()
    candidates.candidate_approve(candidate=validated, actor=users["rm-ben"])


def test_one_decision_per_person(validated, users):
    candidates.candidate_approve(candidate=validated, actor=users["rm-ben"])
    with pytest.raises(ActionRefused, match="already decided"):
        candidates.candidate_approve(candidate=validated, actor=users["rm-ben"])
    assert Approval.objects.count() == 1


def test_approval_needs_validation_first(candidate, users):
    assert candidate.status == "validation_failed"
    with pytest.raises(ActionRefused, match="Staging validation failed: re-run it"):
        candidates.candidate_approve(candidate=candidate, actor=users["rm-ben"])


@pytest.mark.parametrize("username", ["analyst", "viewer", "outsider"])
def test_roles_without_the_right_cannot_approve(validated, users, username):
    with pytest.raises(ActionRefused, match="does not allow"):
        candidates.candidate_approve(candidate=validated, actor=users[username])


def test_rerunning_validation_voids_approvals(validated, users, django_capture_on_commit_callbacks):
    candidates.candidate_approve(candidate=validated, actor=users["rm-ben"])
    with django_capture_on_commit_callbacks(execute=False):
        candidates.candidate_rerun_validation(candidate=validated, actor=users["rm-ana"])
    validated.refresh_from_db()
    assert live_approvals(validated) == []
    assert Approval.objects.get().void_reason == "validation re-run"
    assert not validated.waived_by_id


def test_a_rejection_needs_a_reason_and_ends_the_candidate(validated, users):
    with pytest.raises(ActionRefused, match="needs a reason"):
        candidates.candidate_reject(candidate=validated, actor=users["rm-ben"], reason=" ")
    candidates.candidate_reject(
        candidate=validated, actor=users["rm-ben"], reason="drift too high on orange_pasta"
    )
    validated.refresh_from_db()
    assert validated.status == "rejected"
    assert validated.status_reason == "drift too high on orange_pasta"
    with pytest.raises(ActionRefused):
        candidates.candidate_approve(candidate=validated, actor=users["admin"])


def test_only_admins_waive_and_only_with_a_reason(candidate, users):
    with pytest.raises(ActionRefused, match="does not allow"):
        candidates.candidate_waive_validation(
            candidate=candidate, actor=users["rm-ben"], reason="x"
        )
    with pytest.raises(ActionRefused, match="needs a reason"):
        candidates.candidate_waive_validation(candidate=candidate, actor=users["admin"], reason="")
    candidates.candidate_waive_validation(
        candidate=candidate, actor=users["admin"], reason="manifest lands next sprint"
    )
    candidate.refresh_from_db()
    assert candidate.status == "validated"
    assert candidate.waiver_reason == "manifest lands next sprint"


def test_a_clean_back_merge_by_ewsdash_makes_nobody_an_author(
    repo, users, world, django_capture_on_commit_callbacks
):
    from releases import candidates, operations
    from tests.promotion.factories import carried_out

    # Production gets a hotfix, the admin back-merges it through ewsdash...
    world.checkout("production")
    world.commit("fix: prod only", files={"prod_only.py": "p=1\n"})
    world.push("production")
    carried_out(operations.production_merge_into_development(repository=repo, actor=users["admin"]))
    sync.repository_sync(repository=repo)
    with django_capture_on_commit_callbacks(execute=False):
        candidate = candidates.candidate_create(repository=repo, actor=users["rm-ana"])
    candidate.refresh_from_db()
    assert "admin@ewsdash.example" not in candidate.commit_people
    candidates.candidate_waive_validation(
        candidate=candidate, actor=users["admin"], reason="no manifest"
    )
    # ...and may still review the candidate that contains that merge.
    candidates.candidate_approve(candidate=candidate, actor=users["admin"])
