"""Deployment status: models and ensembles at every release and at both heads, read from
git once per commit, shown with what changed; `deployments NAME --json`."""

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from monitoring.deployments import config_changes, deployment_configs_record
from monitoring.models import ConfigSnapshot
from monitoring.pipeline_configs import ConfigItem
from releases import services, sync
from tests.monitoring_pages import views_shapes as shapes

pytestmark = pytest.mark.django_db

MODEL = "models/{}/configs/config_deployment.py"
ENSEMBLE = "ensembles/{}/configs/config_deployment.py"


@pytest.fixture
def views_repo(world, registered):
    """v1.1.0 and v1.2.0 on production in the real VIEWS shapes; development renames one
    model's file to config_maturity.py and breaks another's config."""
    world.checkout("production")
    world.commit(
        "feat: two models and an ensemble",
        files={
            MODEL.format("bad_blood"): shapes.deployment(shapes.DOCSTRING_ONE_LINE, "shadow"),
            MODEL.format("calm_sea"): shapes.deployment(shapes.MULTI_LINE_COMMENTED, "deployed"),
            "models/calm_sea/configs/config_meta.py": shapes.deployment(shapes.META, "calm_sea"),
            ENSEMBLE.format("white_mustang"): shapes.deployment(shapes.BARE, "deployed"),
        },
    )
    world.git("tag", "-a", "-m", "v1.1.0", "v1.1.0")
    world.commit(
        "feat: retire calm_sea, add a baseline",
        files={
            MODEL.format("bad_blood"): shapes.deployment(shapes.WITH_SERVER_SETTINGS, "deployed"),
            MODEL.format("old_ground"): shapes.deployment(shapes.BARE, "baseline"),
        },
    )
    world.git("rm", "-q", "-r", "models/calm_sea")
    world.commit("feat: retire calm_sea")
    world.git("tag", "-a", "-m", "v1.2.0", "v1.2.0")
    world.checkout("development")
    world.git("merge", "--quiet", "--no-ff", "-m", "Merge production", "production")
    world.commit(
        "feat: maturity vocabulary",
        files={
            "models/bad_blood/configs/config_maturity.py": shapes.deployment(
                shapes.MATURITY, "graduate"
            ),
            MODEL.format("old_ground"): "def get_deployment_config():\n    return load()\n",
        },
    )
    world.push_all()
    sync.repository_sync(repository=registered, force=True)
    return registered


def declared(items) -> dict[str, tuple]:
    return {(i["kind"], i["name"]): (i["status"], i["maturity"]) for i in items}


def test_it_reads_every_release_and_both_heads_once(views_repo):
    # v1.0.0, v1.1.0, v1.2.0 (= production's head), development's head.
    assert deployment_configs_record(repository=views_repo) == 4
    assert deployment_configs_record(repository=views_repo) == 0
    assert ConfigSnapshot.objects.filter(repository=views_repo).count() == 4


def test_the_command_prints_every_point_as_json(views_repo, capsys):
    call_command("deployments", "pipeline", "--json")
    found = json.loads(capsys.readouterr().out)
    assert list(found) == ["production", "development", "releases"]
    assert list(found["releases"]) == ["1.2.0", "1.1.0", "1.0.0"]
    assert found["releases"]["1.0.0"] == []
    assert declared(found["releases"]["1.1.0"]) == {
        ("ensemble", "white_mustang"): ("deployed", None),
        ("model", "bad_blood"): ("shadow", None),
        ("model", "calm_sea"): ("deployed", None),
    }
    assert found["production"] == found["releases"]["1.2.0"]
    assert declared(found["production"]) == {
        ("ensemble", "white_mustang"): ("deployed", None),
        ("model", "bad_blood"): ("deployed", None),
        ("model", "old_ground"): ("baseline", None),
    }
    development = {(i["kind"], i["name"]): i for i in found["development"]}
    assert development[("model", "bad_blood")] == {
        "name": "bad_blood",
        "kind": "model",
        "status": None,
        "maturity": "graduate",
        "path": "models/bad_blood/configs/config_maturity.py",
        "problem": "",
    }
    broken = development[("model", "old_ground")]
    assert (broken["status"], broken["maturity"]) == (None, None)
    assert broken["problem"] == (
        "models/old_ground/configs/config_deployment.py, line 2: "
        "get_deployment_config() returns load(), not a dict literal"
    )


def test_the_plain_command_names_what_it_cannot_read(views_repo, capsys):
    call_command("deployments", "pipeline")
    out = capsys.readouterr().out
    assert "pipeline: 4 commit(s) read" in out
    assert "development: 3 (deployed 1, graduate 1, unreadable 1)" in out
    assert "  model old_ground: models/old_ground/configs/config_deployment.py, line 2" in out


def test_changes_name_added_removed_and_changed_items():
    a = ConfigItem("a", "model", "shadow", None, "p")
    b = ConfigItem("b", "model", "deployed", None, "p")
    e = ConfigItem("e", "ensemble", "shadow", None, "p")
    changes = config_changes(
        [a, b, e],
        [
            ConfigItem("a", "model", "deployed", None, "p"),
            e,
            ConfigItem("c", "model", None, "candidate", "p"),
        ],
    )
    assert [(c.kind, c.name, c.what) for c in changes] == [
        ("model", "a", "changed"),
        ("model", "b", "removed"),
        ("model", "c", "added"),
    ]


def test_the_page_shows_heads_releases_and_changes(
    login, views_repo, django_assert_max_num_queries
):
    deployment_configs_record(repository=views_repo)
    client = login("viewer")
    with django_assert_max_num_queries(14):
        response = client.get(reverse("deployment_status", args=["pipeline"]))
    html = response.content.decode()
    production = html[html.index('data-testid="head-production"') :]
    assert "2 models · 1 ensemble" in production[:2000]
    development = html[html.index('data-testid="head-development"') :]
    assert "1 unreadable" in development[:2000]
    row = html[html.index('data-version="1.2.0"') : html.index('data-version="1.1.0"')]
    assert 'bad_blood</span>: <span class="deploy deploy-shadow">shadow</span>' in row
    assert '(was <span class="deploy deploy-deployed">deployed</span>' in row
    # By default: what development changes against the live release.
    compare = html[html.index('data-testid="config-compare"') :]
    compare = compare[: compare.index("</section>")]
    assert 'data-name="bad_blood"' in compare and 'deploy-graduate">graduate' in compare
    assert 'data-name="old_ground"' in compare and "deploy-unreadable" in compare
    assert 'data-name="white_mustang"' not in compare


def test_any_two_points_can_be_compared(login, views_repo):
    deployment_configs_record(repository=views_repo)
    client = login("analyst")
    url = reverse("deployment_status", args=["pipeline"])
    html = client.get(url, {"before": "1.1.0", "after": "production", "at": "1.1.0"}).content
    html = html.decode()
    compare = html[html.index('data-testid="config-changes"') :]
    compare = compare[: compare.index("</table>")]
    assert 'data-name="calm_sea"' in compare and "absent" in compare
    assert 'data-name="old_ground"' in compare
    items = html[html.index('data-testid="config-items"') :]
    assert "At v1.1.0" in items and 'data-name="calm_sea"' in items


def test_the_page_works_without_releases(login, empty_world, db):
    empty_world.commit("chore: start", files={"README.md": "x\n"})
    empty_world.checkout("development", new_from="production")
    empty_world.commit(
        "feat: a model", files={MODEL.format("bad_blood"): shapes.deployment(shapes.BARE, "shadow")}
    )
    empty_world.push_all()
    repository = services.repository_create(
        actor="test", name="fresh", origin=str(empty_world.origin)
    )
    sync.repository_sync(repository=repository)
    client = login("viewer")
    url = reverse("deployment_status", args=["fresh"])
    assert "not read yet" in client.get(url).content.decode()
    deployment_configs_record(repository=repository)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "No releases yet" in html
    development = html[html.index('data-testid="head-development"') :]
    assert "1 model · 0 ensembles" in development[:2000]


def test_the_seeded_history_reads_as_text(login, history):
    """What the browser journey reads: a release row's change, as plain text."""
    import re

    html = login("viewer").get(reverse("deployment_status", args=["pipeline"])).content.decode()
    row = html[html.index('data-version="2.2.0"') :]
    row = row[: row.index("</tr>")]
    text = " ".join(re.sub(r"<[^>]+>", " ", row).split())
    assert "shadow → deployed" in text
