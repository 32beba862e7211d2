"""Create a candidate: version proposed from the commits, validation started, audited."""

import pytest
from django.urls import reverse

from releases.models import PromotionCandidate
from tests.views.candidate_urls import detail_url
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db

URL = reverse("candidate_create", kwargs={"name": "pipeline"})


def test_it_creates_a_candidate_from_development_with_its_validation(post, repo, world):
    development = world.origin_git("rev-parse", "refs/heads/development").strip()

    response = post("rm-ana", URL, {"source": "development", "version": ""})

    candidate = PromotionCandidate.objects.get()
    assert response["Location"] == detail_url(candidate)
    assert flashes(response) == [
        f"Candidate #{candidate.pk} ({candidate.version}) created; staging validation is queued."
    ]
    assert (candidate.source_branch, candidate.commit) == ("development", development)
    assert (candidate.version, candidate.bump) == ("1.1.0", "minor")  # feat commits since 1.0.0
    assert candidate.created_by.username == "rm-ana"
    assert candidate.validation_run.commit == development
    # No manifest in the test world: validation fails at once, and the candidate says so.
    assert candidate.status == "validation_failed"
    (event,) = events("candidate.created")
    assert event.actor_name == "rm-ana"
    assert (event.payload["source"], event.payload["version"]) == ("development", "1.1.0")


def test_it_takes_a_version_override(post, repo):
    post("rm-ana", URL, {"source": "development", "version": "2.0.0"})

    assert PromotionCandidate.objects.get().version == "2.0.0"


def test_it_refuses_a_branch_the_origin_does_not_have(post, repo):
    response = post("rm-ana", URL, {"source": "nope"})

    assert flashes(response) == ["There is no branch 'nope' at the origin."]
    assert not PromotionCandidate.objects.exists() and events("candidate.created") == []
