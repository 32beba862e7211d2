"""Re-run a candidate's validation: a new attempt, earlier approvals and waiver void."""

import pytest

from monitoring.models import ValidationRun
from releases.models import Approval
from tests.views.candidate_urls import action_url, detail_url
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


def test_it_validates_again_and_voids_the_approvals(post, validated):
    post("rm-ben", action_url("candidate_approve", validated))
    first_run = validated.validation_run

    response = post("rm-ana", action_url("candidate_rerun", validated))

    assert response["Location"] == detail_url(validated)
    assert flashes(response) == ["Validation re-run queued; earlier approvals are void."]
    validated.refresh_from_db()
    assert validated.validation_run_id != first_run.pk
    assert validated.validation_run.attempt == first_run.attempt + 1
    assert validated.waived_by is None and validated.waiver_reason == ""
    # Still no manifest at that commit: the new attempt fails at once, and says so.
    assert validated.status == "validation_failed"
    assert ValidationRun.objects.filter(commit=validated.commit).count() == 2
    assert Approval.objects.get().voided_at is not None
    (event,) = events("candidate.validation_rerun")
    assert (event.actor_name, event.payload["voided_approvals"]) == ("rm-ana", 1)
