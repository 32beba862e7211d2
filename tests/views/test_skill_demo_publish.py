"""Publish the demo's next month of synthetic outcomes: one revision, audited, the ledger
queued; only on the demo repository."""

import pytest
from django.urls import reverse

from ewsdash import queue
from monitoring import skill_demo
from monitoring.models import Outcome, OutcomeRevision
from releases import services
from tests.views.conftest import events, flashes

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(world, users):
    return services.repository_create(
        actor="test", name=skill_demo.DEMO_REPOSITORY, origin=str(world.origin)
    )


def url(name: str) -> str:
    return reverse("skill_demo_publish", kwargs={"name": name})


def test_it_publishes_one_month_after_another_and_queues_the_ledger(post, demo, sent):
    response = post("analyst", url(demo.name))
    assert response["Location"] == reverse("model_health", args=[demo.name]) + "#realized-skill"
    first = OutcomeRevision.objects.get()
    assert first.source == "demo" and first.recorded_by.username == "analyst"
    months = set(Outcome.objects.values_list("month_id", flat=True))
    assert months == {541} and first.rows == Outcome.objects.count() > 100
    assert "Published" in flashes(response)[0]
    (event,) = events("outcomes.recorded")
    assert event.actor_name == "analyst" and event.payload["months"] == [541]
    assert [task for task, _ in sent] == [queue.SKILL_LEDGER_UPDATE]

    post("analyst", url(demo.name))
    assert set(Outcome.objects.values_list("month_id", flat=True)) == {541, 542}
    assert Outcome.objects.filter(month_id=542).count() == first.rows


def test_the_same_world_gives_the_same_outcomes(demo):
    assert skill_demo.demo_month_outcomes(545) == skill_demo.demo_month_outcomes(545)
    values = [row["value"] for row in skill_demo.demo_month_outcomes(545)]
    assert all(v >= 0 and v == int(v) for v in values) and 0 < values.count(0.0) < len(values)


def test_it_refuses_another_repository(post, registered, sent):
    response = post("admin", url("pipeline"))
    assert "demo repository" in flashes(response)[0]
    assert not OutcomeRevision.objects.exists() and sent == []


def test_it_refuses_a_viewer(post, demo):
    assert post("viewer", url(demo.name)).status_code == 403
    assert not OutcomeRevision.objects.exists()


def test_the_button_shows_for_analysts_on_the_demo_only(login, demo, registered):
    from monitoring.models import CheckResult, ModelMetric, ValidationRun
    from releases import sync
    from releases.models import Release
    from tests.validation_runs.factories import make_run

    sync.repository_sync(repository=demo, actor="test")
    for name in ("pipeline", demo.name):
        run = make_run(name=name)  # the run of its v1.0.0, so that model health has metrics
        release = Release.objects.get(repository__name=name, version="1.0.0")
        ValidationRun.objects.filter(pk=run.pk).update(commit=release.commit)
        ModelMetric.objects.create(
            run=run, check_result=CheckResult.objects.get(run=run), model="m",
            target="lr_ged_sb", metric="CRPS", value=1.0,
        )  # fmt: skip
    button = b'data-testid="demo-publish"'
    assert button in login("analyst").get(reverse("model_health", args=[demo.name])).content
    assert button not in login("viewer").get(reverse("model_health", args=[demo.name])).content
    assert button not in login("analyst").get(reverse("model_health", args=["pipeline"])).content
