"""github mode end to end, against a stateful GitHub behind GitHub's own contract: a real
worker opens the candidate's pull request, posts ewsdash/gates, counts a pull-request
review as an approval, and Promote merges the pull request through the API (a merge
commit in the real bare repository), tags the merge and records the release.

The double (tests/support/github_double.py) sits behind Prism's validation proxy: every
request ewsdash sent and every answer it read are checked against GitHub's published
description, and the webhook payload against GitHub's webhook schemas."""

from __future__ import annotations

import pytest
from django.test import Client

from releases import candidates, identities, services, sync
from releases.audit import AuditEvent
from releases.models import Approval, Forge, Release
from releases.workflow import S
from tests.api import webhook_payloads as hooks
from tests.promotion.conftest import make_promotable, waive
from tests.support.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PROJECT = "views-platform/pipeline"


def github_repository(world, *, reviews: bool = True):
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    repository.forge, repository.forge_project = Forge.GITHUB, PROJECT
    repository.forge_reviews_approve = reviews
    repository.save()
    sync.repository_sync(repository=repository)
    return repository


def published(candidate_id: int) -> list[str]:
    return [
        event.payload["state"]
        for event in AuditEvent.objects.filter(
            action="forge.status_published", object_id=str(candidate_id)
        ).order_by("seq")
    ]


def test_promote_merges_the_pull_request_then_tags_the_merge(
    github_forge, celery_worker_process, world, users
):
    make_promotable(world)
    project = github_forge.double.serve(PROJECT, world.origin)
    repository = github_repository(world)
    identities.github_login_set(actor=users["admin"], user=users["rm-ben"], github_login="Ben-GH")
    production_before = world.origin_git("rev-parse", "production")
    mark = github_forge.mark()

    candidate = candidates.candidate_create(repository=repository, actor=users["rm-ana"])
    wait_for(
        lambda: candidate.__class__.objects.get(pk=candidate.pk).forge_pull_request,
        timeout=60,
        message="the pull request",
    )
    candidate.refresh_from_db()
    number = candidate.forge_pull_request
    pull = project.pulls[number]
    assert (pull.head, pull.base) == (f"ewsdash/candidate-{candidate.pk}", "production")
    assert f"/candidates/{candidate.pk}/" in pull.body

    waive(candidate, users)
    candidates.candidate_approve(candidate=candidate, actor=users["admin"])
    # rm-ben approves on GitHub; GitHub tells ewsdash with a webhook.
    github_forge.double.review(
        PROJECT, number, login="ben-gh", state="APPROVED", commit=candidate.commit
    )
    payload = hooks.pull_request_review(number=number, login="ben-gh", commit=candidate.commit)
    answer = hooks.post_github(Client(), "pull_request_review", payload, delivery="review-1")
    assert answer.status_code == 202
    wait_for(
        lambda: Approval.objects.filter(
            candidate=candidate, user=users["rm-ben"], voided_at__isnull=True
        ).exists(),
        timeout=60,
        message="the review counted as rm-ben's approval",
    )
    wait_for(lambda: "success" in published(candidate.pk), timeout=60, message="green gates")
    candidate.refresh_from_db()
    assert candidate.status == S.APPROVED

    candidates.candidate_promote(candidate=candidate, actor=users["rm-ana"])
    wait_for(
        lambda: candidate.__class__.objects.get(pk=candidate.pk).status == S.RELEASED,
        timeout=90,
        message="released",
    )

    # GitHub merged the pull request with a merge commit: production's old head first,
    # the frozen commit second, and only while the head was the frozen commit.
    merge = world.origin_git("rev-parse", "production")
    assert world.origin_git("rev-list", "--parents", "-n", "1", merge).split()[1:] == [
        production_before,
        candidate.commit,
    ]
    assert world.origin_git("log", "-1", "--format=%cn", merge) == "GitHub"
    assert project.merges == [{"number": number, "merge": merge, "sha": candidate.commit}]
    assert project.pulls[number].merged
    # The annotated tag is on the merge commit and names the approvers.
    tag = f"v{candidate.version}"
    assert world.origin_git("cat-file", "-t", tag) == "tag"
    assert world.origin_git("rev-parse", f"{tag}^{{commit}}") == merge
    message = world.origin_git("tag", "-l", "--format=%(contents)", tag)
    assert "Approved by: admin, rm-ben" in message
    release = Release.objects.get(repository=repository, version=candidate.version)
    assert (release.commit, release.tag) == (merge, tag)
    assert not AuditEvent.objects.filter(action__startswith="incident.").exists()

    exchanges = github_forge.exchanges_since(mark)
    sent = [request for request, _ in exchanges]
    assert f"PUT /repos/{PROJECT}/pulls/{number}/merge" in sent
    assert f"GET /repos/{PROJECT}/pulls/{number}/reviews" in sent
    assert f"POST /repos/{PROJECT}/statuses/{candidate.commit}" in sent
    assert [(r, v) for r, v in exchanges if v] == []
    last = project.statuses[-1]
    assert (last["sha"], last["context"], last["state"]) == (
        candidate.commit,
        "ewsdash/gates",
        "success",
    )


def test_promote_refuses_when_the_pull_request_head_moved(
    github_forge, celery_worker_process, world, users
):
    make_promotable(world)
    project = github_forge.double.serve(PROJECT, world.origin)
    repository = github_repository(world, reviews=False)
    candidate = candidates.candidate_create(repository=repository, actor=users["rm-ana"])
    wait_for(
        lambda: candidate.__class__.objects.get(pk=candidate.pk).forge_pull_request,
        timeout=60,
        message="the pull request",
    )
    waive(candidate, users)
    candidates.candidate_approve(candidate=candidate, actor=users["admin"])
    candidates.candidate_approve(candidate=candidate, actor=users["rm-ben"])
    production_before = world.origin_git("rev-parse", "production")
    # Someone pushes to the candidate's branch on GitHub after it was frozen.
    world.checkout("moved", new_from=candidate.commit)
    world.commit("fix: a late change", files={"late.py": "x=1\n"})
    world.git("push", "--quiet", "--force", "origin", f"moved:ewsdash/candidate-{candidate.pk}")

    candidates.candidate_promote(candidate=candidate, actor=users["rm-ana"])
    wait_for(
        lambda: candidate.__class__.objects.get(pk=candidate.pk).status == S.PROMOTION_FAILED,
        timeout=90,
        message="promotion failed",
    )
    candidate.refresh_from_db()
    assert "head moved" in candidate.promotion_error
    assert world.origin_git("rev-parse", "production") == production_before
    assert world.origin_git("tag", "-l", f"v{candidate.version}") == ""
    assert project.merges == []
    assert not Release.objects.filter(version=candidate.version).exists()
