"""The live release's realized skill breaks a floor or falls below the release it replaced:
an incident (audited, notified) that proposes the rollback and blocks no promotion."""

from __future__ import annotations

import pytest
from django.urls import reverse

from monitoring import skill_alerts, skill_ledger
from monitoring.models import SkillScore
from releases.models import AuditEvent, Branch, Incident, Release, ReleaseLine
from tests.skill.factories import UNITS, outcome_rows, release_with_forecasts

pytestmark = pytest.mark.django_db


def live_release(registered, *, factor: float, floors=None) -> tuple[Release, Release]:
    """v1.0.0 as it was (good forecasts) and v1.1.0, now live, forecasting `factor` times
    more fatalities."""
    before = Release.objects.get(repository=registered, version="1.0.0")
    release_with_forecasts(before)
    head = Branch.objects.get(repository=registered, name=registered.production_branch).head
    live = Release.objects.create(
        repository=registered, version="1.1.0", tag="v1.1.0", commit=head, kind="promotion",
        on_production=True,
    )  # fmt: skip
    ReleaseLine.objects.filter(repository=registered).update(latest_release=live)
    release_with_forecasts(live, seed=5, factor=factor, floors=floors)
    skill_ledger.outcomes_record(
        repository=registered, rows=outcome_rows(range(540, 544)), source="api", actor="test"
    )
    skill_ledger.skill_ledger_update(repository=registered)
    return before, live


def test_a_live_release_much_worse_than_the_one_it_replaced_opens_an_incident(registered):
    before, live = live_release(registered, factor=8.0)
    (incident,) = skill_alerts.skill_alerts_check(repository=registered)
    assert incident.kind == "skill_degraded" and incident.ref == "skill/orange_pasta/lr_ged_sb"
    assert incident.commit == live.commit and incident.previous_commit == before.commit
    assert "for the release it replaced over 4 months" in incident.detail
    event = AuditEvent.objects.get(action="skill.degraded")
    assert event.payload["suggested_rollback"] == "1.0.0" and event.payload["reason"]
    assert AuditEvent.objects.filter(action="incident.opened").count() == 1
    # The shadow model is not alerted on; a second check opens nothing new.
    assert skill_alerts.skill_alerts_check(repository=registered) == []
    assert Incident.objects.count() == 1


def test_units_only_the_live_release_forecasts_do_not_count_against_it(registered):
    # The same forecasts, but v1.1.0 adds unit 31, whose months are violent: its monthly
    # means are far above v1.0.0's, yet on the units both forecast nothing changed.
    before = Release.objects.get(repository=registered, version="1.0.0")
    release_with_forecasts(before, units=UNITS[:-1])
    head = Branch.objects.get(repository=registered, name=registered.production_branch).head
    live = Release.objects.create(
        repository=registered, version="1.1.0", tag="v1.1.0", commit=head, kind="hotfix",
        on_production=True,
    )  # fmt: skip
    ReleaseLine.objects.filter(repository=registered).update(latest_release=live)
    release_with_forecasts(live)
    rows = outcome_rows(range(540, 544))
    for month, row in enumerate(r for r in rows if r["unit"] == UNITS[-1]):
        row["value"] = 400.0 + 37 * month
    skill_ledger.outcomes_record(repository=registered, rows=rows, source="api", actor="test")
    skill_ledger.skill_ledger_update(repository=registered)
    ledger = SkillScore.objects.filter(model="orange_pasta", month_id=540)
    assert ledger.get(release=live).crps > 10 * ledger.get(release=before).crps
    assert skill_alerts.skill_problems(repository=registered)[1] == []


def test_a_broken_floor_opens_an_incident_and_a_good_release_none(registered):
    floors = [{"metric": "MSLE", "beat": "zeros"}]
    live_release(registered, factor=60.0, floors=floors)
    texts = [p.text for p in skill_alerts.skill_problems(repository=registered)[1]]
    assert any("does not beat zeros" in text for text in texts), texts


def test_a_release_as_good_as_the_last_opens_nothing(registered):
    live_release(registered, factor=1.0, floors=[{"metric": "CRPS", "beat": "zeros"}])
    assert skill_alerts.skill_problems(repository=registered)[1] == []
    assert skill_alerts.skill_alerts_check(repository=registered) == []


def test_the_incident_page_links_the_rollback_preview_and_promotions_stay_open(registered, login):
    from releases.gates import gate_facts, gate_no_incident
    from releases.models import PromotionCandidate
    from tests.promotion.factories import validated_candidate

    before, _ = live_release(registered, factor=8.0)
    skill_alerts.skill_alerts_check(repository=registered)
    html = login("admin").get(reverse("incident_list", kwargs={"name": "pipeline"})).content
    preview = reverse("rollback_preview", kwargs={"name": "pipeline", "version": before.version})
    assert f'href="{preview}"'.encode() in html
    assert b'data-testid="skill-rollback-preview"' in html
    candidate = PromotionCandidate.objects.select_related("repository", "validation_run").get(
        pk=validated_candidate()
    )
    assert gate_no_incident(gate_facts(candidate=candidate)).ok
