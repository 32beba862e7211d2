"""The demo's realized-skill story on a real worker: each published month of the demo's
outcomes is scored for every release, and the fourth opens a `skill_degraded` incident
for purple_alien in v1.2.1 (the hotfix shipped a retrain no gate judged) that proposes
rolling back to v1.2.0; three months are not enough evidence."""

from __future__ import annotations

import time

import pytest

from monitoring import runs, skill_alerts, skill_demo
from monitoring.chart_selectors import release_sequence
from monitoring.models import SkillScore, ValidationRun
from monitoring.skill_selectors import skill_health
from releases import services, sync
from releases.demo_pipeline import build_demo_origin
from releases.models import AuditEvent, Incident, Release
from tests.support.worker import wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(900),
]

RELEASES = 4  # v1.0.0, v1.1.0, v1.2.0, v1.2.1


def test_the_demo_alerts_on_the_hotfix_release_after_four_published_months(
    settings, tmp_path, celery_worker_process
):
    settings.VAR_DIR = tmp_path
    origin = build_demo_origin(tmp_path / "demo", name=skill_demo.DEMO_REPOSITORY)
    repository = services.repository_create(
        actor="test", name=skill_demo.DEMO_REPOSITORY, origin=str(origin.path)
    )
    sync.repository_sync(repository=repository)
    started = runs.validation_runs_for_releases(repository=repository, actor=None)
    assert len(started) == RELEASES
    wait_for(
        lambda: all(run.is_finished for run in ValidationRun.objects.all()),
        timeout=600,
        interval=0.5,
        message="the release validations did not finish",
    )
    live = Release.objects.get(repository=repository, version="1.2.1")
    better = Release.objects.get(repository=repository, version="1.2.0")

    timings = []
    for published in range(1, 5):
        began = time.monotonic()
        month = skill_demo.demo_next_month(repository)
        skill_demo.demo_outcomes_publish(repository=repository, actor="test")
        # Every release's forecast of the month is scored: the deployed and shadow models.
        wait_for(
            lambda month=month: (
                SkillScore.objects.filter(month_id=month).values("release").distinct().count()
                == RELEASES
            ),
            timeout=120,
            interval=0.2,
            message=f"month {month} was not scored for every release",
        )
        if published < 4:
            timings.append(time.monotonic() - began)
            # The worker's alert check runs this after its update: nothing yet.
            assert skill_alerts.skill_problems(repository=repository)[1] == [], published
            assert not Incident.objects.exists(), published
        else:
            incident = wait_for(
                lambda: Incident.objects.filter(kind="skill_degraded").first(),
                timeout=120,
                interval=0.2,
                message="four months of the demo's outcomes opened no skill incident",
            )
            timings.append(time.monotonic() - began)
    print(f"seconds from publish to ledger rows (and incident): {timings}")

    rows = SkillScore.objects.filter(release=live, model="purple_alien")
    assert rows.count() == 4 and {row.step for row in rows} == {1, 2, 3, 4}
    assert all(row.cells == origin.production_units for row in rows)
    assert all(sum(row.calibration["pit"]["all"]) == row.cells for row in rows)
    page = skill_health(
        repository=repository,
        releases=release_sequence(repository=repository),
        model="purple_alien",
        target="lr_ged_sb",
        step=None,
    )
    assert page.calibration is not None and page.calibration.release.version == "1.2.1"
    assert page.calibration.months == 4 and page.calibration.cells["all"] == 4 * 191

    # Only purple_alien: orange_pasta forecasts the same as in v1.2.0 on the units both
    # forecast, even though v1.2.1 adds two countries (one of them violent).
    assert Incident.objects.count() == 1
    assert incident.ref == "skill/purple_alien/lr_ged_sb" and incident.commit == live.commit
    assert incident.previous_commit == better.commit
    assert "over 4 months on the same units" in incident.detail
    event = AuditEvent.objects.get(action="skill.degraded")
    assert event.payload["release"] == "1.2.1" and event.payload["suggested_rollback"] == "1.2.0"
