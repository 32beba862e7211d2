"""The run page, its live fragment, the run list and the "Validate a commit" form."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from monitoring import runs
from monitoring.models import Artifact, CheckArtifact, ValidationRun
from releases import sync
from tests.validation_runs.conftest import PASSING, commit_on
from tests.validation_runs.factories import make_run

pytestmark = pytest.mark.django_db


def run_url(run: ValidationRun, view: str = "validation_run_detail") -> str:
    return reverse(view, kwargs={"name": "pipeline", "run_id": run.pk})


def queries(client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, headers=headers).status_code == 200
    return len(captured)


def test_the_run_page_shows_checks_logs_and_artifacts(login, registered):
    run = make_run(status="passed", checks=2)
    check = run.checks.first()
    artifact = Artifact.objects.create(sha256="ab" * 32, size=2048)
    CheckArtifact.objects.create(
        check_result=check, artifact=artifact, name="preds.parquet", kind="predictions", rows=6804
    )
    html = login("viewer").get(run_url(run)).content.decode()
    assert 'data-check="check-0"' in html and 'data-check="check-1"' in html
    assert "preds.parquet" in html and "abababababab" in html and "2.0 KB" in html
    assert "6804" in html
    assert 'data-testid="log"' in html
    assert "hx-trigger" not in html  # finished: no polling
    assert 'data-testid="cancel-run"' not in html and 'data-testid="rerun"' not in html


def test_a_running_run_polls_its_fragment_and_offers_cancel(login, registered):
    run = make_run(status="running")
    client = login("rm-ana")
    html = client.get(run_url(run)).content.decode()
    assert 'hx-trigger="every 2s"' in html
    assert 'data-testid="cancel-run"' in html and "data-confirm=" in html
    assert 'data-testid="progress"' in html and 'data-testid="elapsed"' in html
    fragment = client.get(run_url(run), headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith(f'<div id="run-panel-{run.pk}"')
    assert "<html" not in fragment


def test_the_run_page_makes_the_same_queries_however_many_checks(login, registered):
    client = login("viewer")
    small, big = make_run(checks=1), make_run(checks=12)
    for run in (small, big):
        check = run.checks.first()
        CheckArtifact.objects.create(
            check_result=check,
            name=f"f{run.pk}",
            artifact=Artifact.objects.create(sha256=f"{run.pk:064x}", size=1),
            kind="file",
        )
    assert queries(client, run_url(small)) == queries(client, run_url(big))
    assert queries(client, run_url(small), HX_Request="true") == queries(
        client, run_url(big), HX_Request="true"
    )


def test_the_monitoring_page_lists_runs_in_a_fixed_number_of_queries(login, registered):
    client = login("viewer")
    url = reverse("monitoring_home", kwargs={"name": "pipeline"})
    make_run()
    one = queries(client, url)
    for _ in range(5):
        make_run(status="failed")
    assert queries(client, url) == one
    html = client.get(url).content.decode()
    assert html.count('data-run="') == 6
    assert 'data-testid="validate-form"' not in html  # viewers may not start runs


def test_a_release_manager_validates_a_branch_from_the_form(login, registered, world, no_enqueue):
    sha = commit_on(world, "development", "ci", {"ewsdash.toml": PASSING})
    sync.repository_sync(repository=registered)  # a request reads the clone as of the last sync
    client = login("rm-ana")
    page = client.get(reverse("monitoring_home", kwargs={"name": "pipeline"})).content.decode()
    assert 'data-testid="validate-form"' in page
    response = client.post_form(
        reverse("validation_run_start", kwargs={"name": "pipeline"}), {"ref": "development"}
    )
    run = ValidationRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run_url(run)
    assert (run.commit, run.purpose, run.created_by.username) == (sha, "manual", "rm-ana")


def test_an_unknown_ref_is_refused_with_a_message(login, registered):
    client = login("rm-ana")
    response = client.post_form(
        reverse("validation_run_start", kwargs={"name": "pipeline"}), {"ref": "nope"}, follow=True
    )
    assert "is not a branch, a tag or a commit of pipeline as of its last sync" in (
        response.content.decode()
    )
    assert not ValidationRun.objects.exists()


def test_rerun_makes_a_new_attempt_and_shows_it(login, registered, world, no_enqueue):
    sha = commit_on(world, "development", "ci", {"ewsdash.toml": PASSING})
    run = runs.validation_run_start(
        repository=registered, commit=sha, actor="test", purpose="manual"
    )
    runs.validation_run_cancel(run=run, actor="test")
    response = login("rm-ana").post_form(run_url(run, "validation_run_rerun"))
    again = ValidationRun.objects.get(attempt=2)
    assert response["Location"] == run_url(again)


def test_cancel_of_a_finished_run_says_why_not(login, registered):
    run = make_run(status="passed")
    response = login("rm-ana").post_form(run_url(run, "validation_run_cancel"), follow=True)
    assert "has already finished" in response.content.decode()


def test_a_manifest_error_is_shown_on_the_page(login, registered, world):
    sha = commit_on(world, "development", "ci", {"ewsdash.toml": "[[check]]\nname = 3\n"})
    run = runs.validation_run_start(
        repository=registered, commit=sha, actor="test", purpose="manual"
    )
    html = login("viewer").get(run_url(run)).content.decode()
    assert 'data-testid="manifest-error"' in html
    assert "ewsdash.toml, line 2, check &quot;#1&quot;, field &quot;name&quot;" in html


def test_the_validate_command_starts_a_run_and_reports_a_missing_manifest(registered, capsys):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="validation error") as raised:
        call_command("validate", "pipeline", "production", "--wait")
    assert raised.value.returncode == 1
    out = capsys.readouterr().out
    assert "no validation declared (ewsdash.toml not found at" in out
