"""Pull-request reviews on GitHub as approvals (a repository setting, github mode).

A review counts when the repository allows it (`forge_reviews_approve`), it is the
reviewer's latest say on the pull request and that say is "approved", it was given on the
candidate's frozen commit (a review of an older head is about other code), and the
reviewer's GitHub login is linked to an ewsdash account by an admin
(`identities.github_login_set`). It is then recorded through `candidate_approve` as that
account, so every rule of an approval on the page applies unchanged: the role, never the
creator, a confirmed git identity, not an author, one decision per person. A review the
rules refuse is audited once (`forge.review_not_counted`, with the reason).

A worker imports them (`candidate_gates_publish` first imports, then publishes the
status), queued by every gate change and by GitHub's `pull_request_review` webhook.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.functions import Lower

from releases.audit import audit_record
from releases.candidates import candidate_approve
from releases.errors import ActionRefused
from releases.forge import ForgeError, Review, forge_client
from releases.gates import APPROVABLE
from releases.models import (
    Approval,
    AuditEvent,
    Forge,
    GitHubAccount,
    PromotionCandidate,
)

# GitHub's review states that change a reviewer's say; COMMENTED and PENDING do not.
DECISIVE = {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}


def approving_reviews(reviews: list[Review], commit: str) -> list[Review]:
    """Each reviewer's latest decisive review, when it approves `commit`."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.login and review.state in DECISIVE:
            latest[review.login.lower()] = review
    return [r for r in latest.values() if r.state == "APPROVED" and r.commit == commit]


def _linked(logins: list[str]) -> dict[str, Any]:
    accounts = (
        GitHubAccount.objects.annotate(login=Lower("github_login"))
        .filter(login__in=[login.lower() for login in logins], user__is_active=True)
        .select_related("user")
    )
    return {account.login: account.user for account in accounts}


def _not_counted(candidate: PromotionCandidate, review: Review, user: Any, reason: str) -> None:
    seen = AuditEvent.objects.filter(
        action="forge.review_not_counted", object_id=str(candidate.pk), payload__review=review.id
    )
    if seen.exists():
        return
    with transaction.atomic():
        audit_record(
            actor="forge",
            action="forge.review_not_counted",
            obj=candidate,
            repository=candidate.repository,
            payload={
                "review": review.id,
                "github_login": review.login,
                "user": user.get_username(),
                "reason": reason,
            },
        )


def candidate_reviews_import(*, candidate: PromotionCandidate) -> list[str]:
    """Record the approving reviews that count as approvals (a worker calls this);
    returns the usernames that approved now."""
    repository = candidate.repository
    number = candidate.forge_pull_request
    if (
        repository.forge == Forge.DIRECT
        or not repository.forge_reviews_approve
        or not number
        or candidate.status not in APPROVABLE
    ):
        return []
    try:
        client = forge_client(repository)
        assert client is not None
        reviews = approving_reviews(client.pull_request_reviews(number), candidate.commit)
    except ForgeError as error:
        with transaction.atomic():
            audit_record(
                actor="forge",
                action="forge.reviews_failed",
                obj=candidate,
                repository=repository,
                payload={"pull_request": number, "error": str(error)},
            )
        return []
    people = _linked([review.login for review in reviews])
    decided = set(
        Approval.objects.filter(candidate=candidate, voided_at__isnull=True).values_list(
            "user_id", flat=True
        )
    )
    approved = []
    for review in reviews:
        user = people.get(review.login.lower())
        if user is None or user.pk in decided:
            continue
        try:
            candidate_approve(
                candidate=candidate,
                actor=user,
                comment=f"GitHub review {review.id} on pull request #{number} (@{review.login})",
            )
        except ActionRefused as refusal:
            _not_counted(candidate, review, user, str(refusal))
        else:
            approved.append(user.get_username())
    return approved
