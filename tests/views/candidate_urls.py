"""URLs of a candidate's actions, for tests/views/test_candidate_*.py."""

from django.urls import reverse


def action_url(view: str, candidate) -> str:
    return reverse(view, kwargs={"name": candidate.repository.name, "pk": candidate.pk})


def detail_url(candidate) -> str:
    return action_url("candidate_detail", candidate)
