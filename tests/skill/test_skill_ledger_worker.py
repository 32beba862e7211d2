"""The ledger on a real worker: outcomes recorded queue it; beat's task finds what is due."""

from __future__ import annotations

import pytest

from ewsdash import queue
from monitoring import skill_ledger
from monitoring.models import Outcome, OutcomeRevision, SkillScore
from releases.models import Release
from tests.skill.factories import outcome_rows, release_with_forecasts
from tests.support.worker import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_recorded_outcomes_are_scored_on_the_worker_and_beat_scores_late_ones(
    celery_worker_process, registered, users
):
    release = Release.objects.get(repository=registered, version="1.0.0")
    release_with_forecasts(release)
    skill_ledger.outcomes_record(
        repository=registered,
        rows=outcome_rows(range(540, 542)),
        source="api",
        actor=users["rm-ana"],
    )
    wait_for(lambda: SkillScore.objects.count() == 4, timeout=60, message="ledger not scored")
    assert set(SkillScore.objects.values_list("month_id", flat=True)) == {540, 541}

    # Outcomes written without the service (as a restore would): only beat's sweep sees them.
    revision = OutcomeRevision.objects.create(repository=registered, source="command")
    Outcome.objects.bulk_create(
        Outcome(repository=registered, revision=revision, **row)
        for row in outcome_rows(range(542, 543))
    )
    queue.enqueue(queue.SKILL_LEDGER_UPDATE_ALL)
    wait_for(lambda: SkillScore.objects.count() == 6, timeout=60, message="beat sweep did nothing")
    assert (
        SkillScore.objects.get(model="orange_pasta", month_id=542).outcomes_revision == revision.pk
    )
