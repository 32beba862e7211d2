"""github mode's git writes through pull requests, run in-process against the stateful
GitHub double behind Prism's validation proxy (tests/support/github_double.py): the
refusals, reconciling after a worker died between the merge and the tag, a rollback by
pull request on a protected production, and pull-request reviews as approvals."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from releases import candidates, forge, forge_reviews, identities, operation_runner, operations
from releases.audit import AuditEvent
from releases.errors import ActionRefused
from releases.forge import ForgeError, GitHubForge
from releases.models import (
    Approval,
    Forge,
    Operation,
    OperationStatus,
    Release,
    ReleaseKind,
)
from releases.workflow import S

pytestmark = pytest.mark.django_db

PROJECT = "views-platform/pipeline"


@pytest.fixture
def project(github_forge, world):
    return github_forge.double.serve(PROJECT, world.origin)


def github(repository, **settings) -> None:
    repository.forge, repository.forge_project = Forge.GITHUB, PROJECT
    for name, value in settings.items():
        setattr(repository, name, value)
    repository.save()


def client() -> GitHubForge:
    from django.conf import settings

    return GitHubForge(
        project=PROJECT, token="ghp_test", api_url=settings.EWSDASH_GITHUB_API_URL, timeout=10
    )


def open_pull_request(candidate) -> int:
    forge.candidate_pull_request_open(candidate_id=candidate.pk)
    candidate.refresh_from_db()
    assert candidate.forge_pull_request
    return candidate.forge_pull_request


# -- the contract ------------------------------------------------------------------------------


def test_a_request_that_breaks_githubs_description_is_flagged(github_forge, project, world):
    mark = github_forge.mark()
    sha = world.origin_git("rev-parse", "production")
    requests.post(
        f"{github_forge.url}/repos/{PROJECT}/statuses/{sha}",
        json={"state": "green"},
        headers={"Authorization": "token t"},
        timeout=10,
    )
    [(request, violations)] = github_forge.exchanges_since(mark)
    assert request == f"POST /repos/{PROJECT}/statuses/{sha}"
    assert any(v.startswith("request.body.state") for v in violations), violations


def test_github_refuses_a_merge_when_the_head_moved(github_forge, project, world, repo, validated):
    github(repo)
    number = open_pull_request(validated)
    world.checkout("moved", new_from=validated.commit)
    world.commit("fix: pushed after the freeze")
    world.git("push", "--quiet", "--force", "origin", f"moved:ewsdash/candidate-{validated.pk}")
    with pytest.raises(ForgeError, match="409: Head branch was modified"):
        client().pull_request_merge(number, sha=validated.commit, title="t", message="m")
    assert project.merges == [] and not project.pulls[number].merged


def test_promote_is_refused_while_the_pull_request_is_not_open(repo, approved, users):
    github(repo)
    with pytest.raises(ActionRefused, match="pull request on GitHub is not open yet"):
        candidates.candidate_promote(candidate=approved, actor=users["rm-ana"])


# -- reconciling after the worker died ---------------------------------------------------------


def _promotion_whose_worker_died(candidate, users) -> Operation:
    candidates.candidate_promote(candidate=candidate, actor=users["rm-ana"])
    operation = Operation.objects.get(candidate=candidate)
    long_ago = timezone.now() - timedelta(hours=1)
    Operation.objects.filter(pk=operation.pk).update(
        status=OperationStatus.RUNNING, started_at=long_ago, heartbeat_at=long_ago
    )
    return operation


def test_reconcile_tags_a_pull_request_github_merged_before_the_worker_died(
    project, world, repo, approved, users
):
    github(repo)
    number = open_pull_request(approved)
    operation = _promotion_whose_worker_died(approved, users)
    # The worker's merge reached GitHub; then it died, before the tag.
    merge = client().pull_request_merge(number, sha=approved.commit, title="t", message="m")

    operation_runner.operation_reconcile(operation=operation, actor=None, force=True)

    operation.refresh_from_db()
    approved.refresh_from_db()
    assert (operation.status, operation.reconciled) == (OperationStatus.SUCCEEDED, True)
    assert "pull request merged" in operation.progress
    tag = f"v{approved.version}"
    assert world.origin_git("rev-parse", f"{tag}^{{commit}}") == merge
    assert approved.status == S.RELEASED
    assert Release.objects.get(repository=repo, version=approved.version).commit == merge


def test_reconcile_fails_a_promotion_whose_pull_request_is_still_open(
    project, world, repo, approved, users
):
    github(repo)
    number = open_pull_request(approved)
    production = world.origin_git("rev-parse", "production")
    operation = _promotion_whose_worker_died(approved, users)

    operation_runner.operation_reconcile(operation=operation, actor=None, force=True)

    operation.refresh_from_db()
    approved.refresh_from_db()
    assert operation.status == OperationStatus.FAILED
    assert approved.status == S.PROMOTION_FAILED
    assert world.origin_git("rev-parse", "production") == production
    assert not project.pulls[number].merged


# -- rollback by pull request ------------------------------------------------------------------


def test_a_rollback_goes_through_a_pull_request_when_github_says_production_is_protected(
    github_forge, world, registered, users
):
    project = github_forge.double.serve(PROJECT, world.origin, protected=("production",))
    github(registered)
    target = Release.objects.get(repository=registered, version="1.0.0")
    production = world.origin_git("rev-parse", "production")
    operation = operations.release_rollback(
        repository=registered, target=target, actor=users["admin"], reason="bad forecasts"
    )

    operation_runner.operation_run(operation_id=operation.pk)

    operation.refresh_from_db()
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    [pull] = project.pulls.values()
    assert (pull.head, pull.base, pull.merged) == (
        f"ewsdash/rollback-{operation.pk}",
        "production",
        True,
    )
    merge = world.origin_git("rev-parse", "production")
    parents = world.origin_git("rev-list", "--parents", "-n", "1", merge).split()[1:]
    assert parents[0] == production and len(parents) == 2
    assert world.origin_git("rev-parse", f"{merge}^{{tree}}") == world.origin_git(
        "rev-parse", "v1.0.0^{tree}"
    )
    release = Release.objects.get(repository=registered, kind=ReleaseKind.ROLLBACK)
    assert release.commit == merge
    assert world.origin_git("rev-parse", f"{release.tag}^{{commit}}") == merge
    assert world.origin_git("cat-file", "-t", release.tag) == "tag"


def test_a_rollback_pushes_as_before_when_production_is_not_protected(
    project, world, registered, users
):
    github(registered)
    target = Release.objects.get(repository=registered, version="1.0.0")
    operation = operations.release_rollback(
        repository=registered, target=target, actor=users["admin"], reason="bad forecasts"
    )
    operation_runner.operation_run(operation_id=operation.pk)
    operation.refresh_from_db()
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert project.pulls == {}
    head = world.origin_git("rev-parse", "production")
    assert len(world.origin_git("rev-list", "--parents", "-n", "1", head).split()) == 2


# -- reviews as approvals ----------------------------------------------------------------------


@pytest.fixture
def reviewed(github_forge, project, repo, validated, users):
    """The candidate's pull request is open; rm-ben (@ben-gh), rm-ana (@ana-gh, the
    candidate's creator) and the admin (@admin-gh) are linked."""
    github(repo, forge_reviews_approve=True)
    for username, login in (("rm-ben", "ben-gh"), ("rm-ana", "ana-gh"), ("admin", "admin-gh")):
        identities.github_login_set(actor=users["admin"], user=users[username], github_login=login)
    validated.forge_pull_request = open_pull_request(validated)
    return validated


def approvers(candidate) -> set[str]:
    live = Approval.objects.filter(candidate=candidate, voided_at__isnull=True)
    return {a.user.username for a in live}


def test_an_approving_review_on_the_frozen_commit_by_a_linked_person_counts(
    github_forge, reviewed, users
):
    number = reviewed.forge_pull_request
    github_forge.double.review(
        PROJECT, number, login="Ben-GH", state="APPROVED", commit=reviewed.commit
    )
    github_forge.double.review(
        PROJECT, number, login="stranger", state="APPROVED", commit=reviewed.commit
    )

    assert forge_reviews.candidate_reviews_import(candidate=reviewed) == ["rm-ben"]
    assert approvers(reviewed) == {"rm-ben"}
    [approval] = Approval.objects.filter(candidate=reviewed)
    assert "GitHub review" in approval.comment and "@Ben-GH" in approval.comment
    # Importing again changes nothing.
    assert forge_reviews.candidate_reviews_import(candidate=reviewed) == []


def test_the_same_rules_apply_to_a_review(github_forge, reviewed, users):
    number = reviewed.forge_pull_request
    # The creator may not approve; a review of an older head is about other code; a
    # later "changes requested" withdraws an approval.
    github_forge.double.review(
        PROJECT, number, login="ana-gh", state="APPROVED", commit=reviewed.commit
    )
    github_forge.double.review(PROJECT, number, login="admin-gh", state="APPROVED", commit="0" * 40)
    github_forge.double.review(
        PROJECT, number, login="ben-gh", state="APPROVED", commit=reviewed.commit
    )
    github_forge.double.review(
        PROJECT, number, login="ben-gh", state="CHANGES_REQUESTED", commit=reviewed.commit
    )

    assert forge_reviews.candidate_reviews_import(candidate=reviewed) == []
    forge_reviews.candidate_reviews_import(candidate=reviewed)
    assert approvers(reviewed) == set()
    [refused] = AuditEvent.objects.filter(action="forge.review_not_counted")
    assert refused.payload["user"] == "rm-ana"
    assert "You created this candidate" in refused.payload["reason"]


def test_reviews_do_not_count_unless_the_repository_allows_it(github_forge, reviewed, repo):
    repo.forge_reviews_approve = False
    repo.save()
    reviewed.refresh_from_db()
    github_forge.double.review(
        PROJECT,
        reviewed.forge_pull_request,
        login="ben-gh",
        state="APPROVED",
        commit=reviewed.commit,
    )
    assert forge_reviews.candidate_reviews_import(candidate=reviewed) == []
    assert approvers(reviewed) == set()


def test_the_next_gate_change_opens_a_pull_request_that_failed_to_open(
    github_forge, world, repo, validated
):
    from releases import tasks

    github(repo)
    # GitHub does not know the project yet: opening fails, and is audited.
    assert "no pull request" in forge.candidate_pull_request_open(candidate_id=validated.pk)
    assert AuditEvent.objects.filter(action="forge.pull_request_failed").count() == 1
    project = github_forge.double.serve(PROJECT, world.origin)

    tasks.candidate_gates_publish(candidate_id=validated.pk)

    validated.refresh_from_db()
    assert validated.forge_pull_request == 1 and project.pulls[1].head.endswith(f"-{validated.pk}")
    assert project.statuses[-1]["sha"] == validated.commit


def test_reconcile_records_a_promotion_whose_tag_landed_before_the_worker_died(
    project, world, repo, approved, users
):
    from releases import forge_operations, git
    from releases.clones import clone_session

    github(repo)
    open_pull_request(approved)
    operation = _promotion_whose_worker_died(approved, users)
    with clone_session(repo) as clone:  # the worker's whole job, then it died unrecorded
        clone.fetch()
        plan = forge_operations.promotion_plan(operation, clone)
        git.push_atomic(clone, plan.updates)
    operation.refresh_from_db()
    # Production's new head was recorded as ours the moment GitHub merged.
    assert operation.planned == {"refs/heads/production": plan.result["commit"]}
    tag_object = world.origin_git("rev-parse", f"v{approved.version}")

    operation_runner.operation_reconcile(operation=operation, actor=None, force=True)

    operation.refresh_from_db()
    approved.refresh_from_db()
    assert operation.status == OperationStatus.SUCCEEDED and approved.status == S.RELEASED
    assert world.origin_git("rev-parse", f"v{approved.version}") == tag_object  # not re-tagged
    assert len(project.merges) == 1


def test_the_setting_says_production_is_protected_without_asking_github(
    github_forge, project, registered
):
    from releases import forge_operations

    github(registered, production_protected=True)
    mark = github_forge.mark()
    assert forge_operations.production_protected(registered)
    assert github_forge.exchanges_since(mark) == []
    github(registered, production_protected=False)
    assert not forge_operations.production_protected(registered)
    assert github_forge.exchanges_since(mark) == [(f"GET /repos/{PROJECT}/branches/production", [])]


def test_reconcile_tags_a_rollback_whose_pull_request_github_merged(
    github_forge, world, registered, users
):
    from releases import forge_operations
    from releases.clones import clone_session

    project = github_forge.double.serve(PROJECT, world.origin, protected=("production",))
    github(registered)
    target = Release.objects.get(repository=registered, version="1.0.0")
    operation = operations.release_rollback(
        repository=registered, target=target, actor=users["admin"], reason="bad forecasts"
    )
    long_ago = timezone.now() - timedelta(hours=1)
    Operation.objects.filter(pk=operation.pk).update(
        status=OperationStatus.RUNNING, started_at=long_ago, heartbeat_at=long_ago
    )
    operation.refresh_from_db()
    with clone_session(registered) as clone:  # merged on GitHub, then the worker died
        clone.fetch()
        plan = forge_operations.rollback_plan(operation, clone)
    merge = plan.result["commit"]
    assert project.pulls[1].merged and world.origin_git("tag", "-l", plan.result["tag"]) == ""

    operation_runner.operation_reconcile(operation=operation, actor=None, force=True)

    operation.refresh_from_db()
    assert operation.status == OperationStatus.SUCCEEDED, operation.error
    assert world.origin_git("rev-parse", f"{plan.result['tag']}^{{commit}}") == merge
    assert Release.objects.get(repository=registered, kind=ReleaseKind.ROLLBACK).commit == merge
    assert len(project.merges) == 1
