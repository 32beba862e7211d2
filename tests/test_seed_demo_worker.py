"""`seed_demo` as `make demo` runs it: the worker syncs, validates every release, and
freezes rm-ana's first candidate, whose validation finds the orange_pasta regression."""

import pytest
from django.core.management import call_command

from monitoring.models import DriftJob, ModelMetric, ValidationRun
from releases.models import Branch, PromotionCandidate, Release
from tests.support.worker import wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(900),
]


def test_the_worker_prepares_the_whole_demo(settings, tmp_path, celery_worker_process, role_groups):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    # The candidate task runs after every release check (one worker process in tests).
    candidate = wait_for(
        lambda: PromotionCandidate.objects.first(),
        timeout=600,
        message="no candidate was created by the worker",
    )
    assert candidate.created_by.username == "rm-ana"
    assert Branch.objects.filter(name="development").exists()
    wait_for(
        lambda: PromotionCandidate.objects.get().status != "validating",
        timeout=600,
        message="the candidate's validation did not finish",
    )
    candidate.refresh_from_db()
    assert candidate.status == "validation_failed"
    assert "performance" in candidate.status_reason
    releases = Release.objects.filter(on_production=True)
    for release in releases:
        run = ValidationRun.objects.filter(commit=release.commit).order_by("-attempt").first()
        assert run is not None and run.purpose == "reference", release.version
        wait_for(lambda run=run: ValidationRun.objects.get(pk=run.pk).is_finished, timeout=300)
        assert ModelMetric.objects.filter(run=run).exists(), release.version
    wait_for(
        lambda: DriftJob.objects.filter(source="validation", status="done").exists(),
        timeout=120,
        message="the candidate's drift check recorded no drift job",
    )
