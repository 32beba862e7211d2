"""Every release on production gets a validation run: its evidence and its history."""

import pytest

from monitoring.models import ValidationRun
from monitoring.runs import validation_runs_for_releases
from releases import services, sync
from releases.demo_pipeline import build_demo_origin
from releases.models import Release

pytestmark = pytest.mark.django_db


def test_each_release_on_production_gets_one_reference_run(
    tmp_path, django_capture_on_commit_callbacks
):
    origin = build_demo_origin(tmp_path / "demo")
    repository = services.repository_create(
        actor="test", name="views-pipeline", origin=str(origin.path)
    )
    sync.repository_sync(repository=repository)
    with django_capture_on_commit_callbacks(execute=False):
        runs = validation_runs_for_releases(repository=repository, actor=None)
        again = validation_runs_for_releases(repository=repository, actor=None)
    commits = set(
        Release.objects.filter(repository=repository, on_production=True).values_list(
            "commit", flat=True
        )
    )
    assert {run.commit for run in runs} == commits and len(runs) == 4
    # Older releases compare with nothing: they are not regressions of production.
    assert {run.purpose for run in runs} == {"reference"}
    assert all(run.reference_id is None for run in runs)
    assert [r.pk for r in again] == [r.pk for r in runs]  # asking twice starts nothing new
    assert ValidationRun.objects.filter(repository=repository).count() == 4
