"""Outcomes become revisions; the ledger scores production releases' forecasts against them
and scores again only what a revision changed."""

from __future__ import annotations

import numpy as np
import pytest
import scoringrules as sr

from monitoring import skill_ledger
from monitoring.models import Outcome, SkillScore
from releases.errors import ActionRefused
from releases.models import AuditEvent, Release
from tests.skill.factories import (
    FIRST_MONTH,
    UNITS,
    forecast_draws,
    outcome_rows,
    release_with_forecasts,
)
from tests.support.queued import enqueued

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(registered):
    release = Release.objects.get(repository=registered, version="1.0.0")
    release_with_forecasts(release)
    return release


def record(repository, rows, user="rm-ana", users=None):
    return skill_ledger.outcomes_record(
        repository=repository, rows=rows, source="api", actor=users[user] if users else user
    )


def test_it_records_outcomes_as_a_revision_with_an_audit_event_and_queues_the_ledger(
    registered, users, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        revision = record(registered, outcome_rows(range(540, 542)), users=users)
    assert revision.rows == revision.changed == 12
    assert Outcome.objects.filter(revision=revision).count() == 12
    event = AuditEvent.objects.get(action="outcomes.recorded")
    assert event.payload["months"] == [540, 541] and event.payload["changed"] == 12
    assert event.actor == users["rm-ana"]
    assert len(enqueued(callbacks)) == 1


def test_resending_the_same_values_changes_nothing_and_queues_nothing(
    registered, users, django_capture_on_commit_callbacks
):
    first = record(registered, outcome_rows(range(540, 541)), users=users)
    with django_capture_on_commit_callbacks() as callbacks:
        again = record(registered, outcome_rows(range(540, 541)), users=users)
    assert again.changed == 0 and enqueued(callbacks) == []
    assert set(Outcome.objects.values_list("revision", flat=True)) == {first.pk}


@pytest.mark.parametrize("user", ["analyst", "viewer", "outsider"])
def test_it_refuses_roles_below_release_manager(registered, users, user):
    with pytest.raises(ActionRefused):
        record(registered, outcome_rows(range(540, 541)), user=user, users=users)
    assert not Outcome.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"target": "lr_ged_sb", "unit": 1, "month_id": 540, "value": -1},
        {"target": "lr_ged_sb", "unit": 1, "month_id": 540, "value": float("nan")},
        {"target": "", "unit": 1, "month_id": 540, "value": 1},
        {"target": "lr_ged_sb", "unit": "x", "month_id": 540, "value": 1},
        {"unit": 1, "month_id": 540, "value": 1},
    ],
)
def test_it_refuses_a_bad_row_and_records_nothing(registered, bad):
    with pytest.raises(ActionRefused, match="row 2"):
        record(registered, [outcome_rows(range(540, 541))[0], bad], user="manage.py outcomes")
    assert not Outcome.objects.exists()


def expected_crps(model: str, month: int, rows: list[dict]) -> float:
    draws = forecast_draws(model, seed=1)[month - FIRST_MONTH]
    values = {(r["unit"], r["month_id"]): r["value"] for r in rows}
    return float(
        np.mean(
            [
                sr.crps_ensemble(values[(int(unit), month)], draws[i].astype(np.float64))
                for i, unit in enumerate(UNITS)
            ]
        )
    )


def test_it_scores_every_model_of_every_production_release_per_month(release, users):
    rows = outcome_rows(range(540, 543))
    revision = record(release.repository, rows, users=users)
    result = skill_ledger.skill_ledger_update(repository=release.repository)
    assert result.scored == 6 and result.problems == []  # 2 models x 3 months
    score = SkillScore.objects.get(model="orange_pasta", month_id=541)
    assert score.step == 2 and score.status == "deployed" and score.cells == len(UNITS)
    assert score.release == release and score.outcomes_revision == revision.pk
    assert score.crps == pytest.approx(expected_crps("orange_pasta", 541, rows), rel=1e-12)
    assert SkillScore.objects.get(model="purple_alien", month_id=540).status == "shadow"
    calibration = score.calibration
    assert sum(calibration["pit"]["all"]) == len(UNITS)
    assert calibration["cells"]["zero"] == score.zeros
    assert calibration["coverage"]["all"][4] == score.coverage_50  # level 0.5
    # Nothing new: nothing scored, and the files are not even read.
    assert skill_ledger.skill_ledger_update(repository=release.repository).files == 0


def test_a_revision_scores_again_only_the_months_it_changed(release, users):
    record(release.repository, outcome_rows(range(540, 543)), users=users)
    skill_ledger.skill_ledger_update(repository=release.repository)
    before = {s.pk: (s.crps, s.scored_at) for s in SkillScore.objects.all()}
    # Final data replace the candidate data of month 541 (every value one higher).
    revised = outcome_rows(range(541, 542), bump=1.0)
    revision = record(release.repository, revised, users=users)
    result = skill_ledger.skill_ledger_update(repository=release.repository)
    assert result.scored == 2  # month 541 of both models
    for score in SkillScore.objects.all():
        if score.month_id == 541:
            assert score.outcomes_revision == revision.pk
            assert score.crps != before[score.pk][0]
        else:
            assert (score.crps, score.scored_at) == before[score.pk]
    again = SkillScore.objects.get(model="orange_pasta", month_id=541)
    assert again.crps == pytest.approx(expected_crps("orange_pasta", 541, revised), rel=1e-12)


def test_units_and_months_without_outcomes_are_left_out(release, users):
    rows = [r for r in outcome_rows(range(540, 541)) if r["unit"] != UNITS[0]]
    rows.append({"target": "lr_ged_sb", "unit": 999, "month_id": 540, "value": 3})
    rows.append({"target": "lr_ged_sb", "unit": 4, "month_id": 600, "value": 3})
    record(release.repository, rows, users=users)
    skill_ledger.skill_ledger_update(repository=release.repository)
    assert set(SkillScore.objects.values_list("month_id", "cells")) == {(540, len(UNITS) - 1)}


def test_an_update_reads_a_fixed_number_of_queries_per_scored_file(
    release, users, django_assert_max_num_queries
):
    record(release.repository, outcome_rows(range(540, 544)), users=users)
    with django_assert_max_num_queries(20):
        skill_ledger.skill_ledger_update(repository=release.repository)
    assert SkillScore.objects.count() == 8
