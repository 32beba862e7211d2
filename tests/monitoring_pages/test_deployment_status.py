"""Deployment status per release: read from git once, shown with what changed."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from monitoring.deployments import deployment_statuses_record, status_changes, status_from_config
from monitoring.models import ReleaseModelStatus
from releases import sync

pytestmark = pytest.mark.django_db


def config(status: str) -> str:
    return f'"""Deployment status."""\n\ndeployment_status = "{status}"\n'


@pytest.fixture
def releases_with_models(world, registered):
    world.checkout("production")
    world.commit(
        "feat: two models",
        files={
            "models/bright_sky/configs/config_deployment.py": config("shadow"),
            "models/calm_sea/configs/config_deployment.py": config("deployed"),
        },
    )
    world.git("tag", "-a", "-m", "v1.1.0", "v1.1.0")
    world.commit(
        "feat: promote bright_sky, add a baseline",
        files={
            "models/bright_sky/configs/config_deployment.py": config("deployed"),
            "models/old_ground/configs/config_deployment.py": "deployment_status = 'Baseline'\n",
            "models/no_config/main.py": "x = 1\n",
        },
    )
    world.git("rm", "-q", "-r", "models/calm_sea")
    world.commit("feat: retire calm_sea")
    world.git("tag", "-a", "-m", "v1.2.0", "v1.2.0")
    world.push_all()
    sync.repository_sync(repository=registered, force=True)
    return registered


def statuses(version: str) -> dict[str, str]:
    return dict(
        ReleaseModelStatus.objects.filter(release__version=version).values_list("model", "status")
    )


def test_it_reads_each_releases_models_once(releases_with_models):
    assert deployment_statuses_record(repository=releases_with_models) == 2
    assert statuses("1.1.0") == {"bright_sky": "shadow", "calm_sea": "deployed"}
    assert statuses("1.2.0") == {"bright_sky": "deployed", "old_ground": "baseline"}
    assert statuses("1.0.0") == {}  # no models at all: nothing stored, tried again later
    assert deployment_statuses_record(repository=releases_with_models) == 0


def test_the_command_reads_them_too(releases_with_models, capsys):
    call_command("deployments", "pipeline")
    assert "2 release(s) read" in capsys.readouterr().out


def test_the_config_is_read_as_text_never_run():
    assert status_from_config('deployment_status: str = "shadow"  # note\n') == "shadow"
    assert status_from_config("deployment_status = compute()\n") == ""
    assert status_from_config("# deployment_status = 'deployed'\n") == ""


def test_changes_name_added_removed_and_changed_models():
    changes = status_changes({"a": "shadow", "b": "deployed"}, {"a": "deployed", "c": "shadow"})
    assert [(c.model, c.before, c.after) for c in changes] == [
        ("a", "shadow", "deployed"),
        ("b", "deployed", None),
        ("c", None, "shadow"),
    ]


def test_the_page_shows_statuses_and_changes(
    login, releases_with_models, django_assert_max_num_queries
):
    deployment_statuses_record(repository=releases_with_models)
    client = login("viewer")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("deployment_status", args=["pipeline"]))
    html = response.content.decode()
    row = html[html.index('data-version="1.2.0"') : html.index('data-version="1.1.0"')]
    assert "bright_sky</span>: shadow → <strong>deployed" in row
    assert "(was deployed)" in row and "old_ground</span> (baseline)" in row
    assert 'data-version="1.0.0"' in html and "not read yet" in html
