"""The demo origin's release facts, as the Overview and `repo status --json` show them."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from releases import services, sync
from releases.demo_pipeline import build_demo_origin

# One xdist worker runs the module, so its module-scoped demo origin is built once.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo_releases")]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return build_demo_origin(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def synced(demo):
    repository = services.repository_create(actor="test", name="views", origin=str(demo.path))
    sync.repository_sync(repository=repository, actor="test", force=True)
    out = StringIO()
    call_command("repo", "status", "views", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_shows_its_releases_newest_first(synced, demo):
    assert [r["tag"] for r in synced["releases"]] == list(reversed(demo.tags))
    assert all(r["on_production"] and r["kind"] == "imported" for r in synced["releases"])
    assert synced["production_line"]["latest_release"] == demo.latest_release.removeprefix("v")
    assert synced["not_semver_tags"] == []


def test_the_demo_proposes_its_next_version_with_a_changelog(synced, demo):
    upcoming = synced["next_version"]
    assert upcoming["tag"] == demo.next_version
    assert upcoming["bump"] == "minor"
    groups = {entry["group"] for entry in upcoming["changelog"]}
    assert {"Features", "Fixes"} <= groups
    # Ten commits ahead, one of them a merge: nine entries.
    assert len(upcoming["changelog"]) == demo.development_ahead - 1


def test_the_demo_hotfix_is_one_back_port_item(synced, demo):
    assert synced["backports"] == [
        {
            "commit": demo.hotfix_commit,
            "subject": demo.hotfix_subject,
            "release": "1.2.1",
            "pending_since": synced["backports"][0]["pending_since"],
            "stale": True,
        }
    ]


def test_the_demo_overview_shows_live_release_next_version_and_back_port(synced, demo, login):
    page = (
        login("analyst")
        .get(reverse("repository_overview", kwargs={"name": "views"}))
        .content.decode()
    )
    assert 'data-testid="live-release"' in page and demo.latest_release in page
    assert demo.next_version in page
    assert page.count('data-testid="backport-row"') == 1
    assert 'data-testid="backport-stale"' in page
