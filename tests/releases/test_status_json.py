"""`repo status --json` carries releases, not-semver tags, back-ports and the next version."""

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def status(name="pipeline", *flags: str) -> str:
    out = StringIO()
    call_command("repo", "status", name, *flags, stdout=out)
    return out.getvalue()


def test_it_prints_the_release_fields_newest_first(governed):
    w = governed.world
    governed.tag("1.0.0")
    w.commit("feat: more", files={"more.py": "more = 1\n"})
    governed.tag("v1.1.0", message="v1.1.0")
    governed.tag("1.1.0")
    governed.tag("nightly")
    w.checkout("hotfix/a", new_from="production")
    hot = w.commit("fix: hot", files={"hot.py": "hot = 1\n"})
    w.checkout("production")
    w.merge("hotfix/a")
    w.checkout("development")
    w.commit("feat!: breaking on development", files={"api.py": "v = 2\n"})
    w.checkout("production")
    governed.push()
    governed.sync()
    data = json.loads(status("pipeline", "--json"))
    releases = [
        {k: r[k] for k in ("version", "tag", "kind", "on_production")} for r in data["releases"]
    ]
    assert releases == [
        {"version": "1.1.0", "tag": "1.1.0", "kind": "imported", "on_production": True},
        {"version": "1.0.0", "tag": "1.0.0", "kind": "imported", "on_production": True},
    ]
    assert data["releases"][0]["tags"] == ["1.1.0", "v1.1.0"]
    assert len(data["releases"][0]["commit"]) == 40
    assert [t["tag"] for t in data["not_semver_tags"]] == ["nightly"]
    assert set(data["not_semver_tags"][0]) == {"tag", "reason"}
    assert data["not_semver_tags"][0]["reason"]
    assert [(b["subject"], b["release"]) for b in data["backports"]] == [
        ("feat: more", "1.1.0"),
        ("fix: hot", None),
    ]
    assert data["backports"][1]["commit"] == hot
    assert data["next_version"]["version"] == "2.0.0"
    assert data["next_version"]["tag"] == "2.0.0"  # the repository tags without v
    assert data["next_version"]["bump"] == "major"
    assert data["next_version"]["changelog"][0]["group"] == "Breaking"
    assert data["production_line"]["commits_past_latest"] == 2


def test_the_text_status_names_the_live_release_and_next_version(governed):
    governed.tag("v1.0.0")
    governed.world.checkout("development")
    governed.world.commit("fix: a bug")
    governed.push()
    governed.sync()
    text = status()
    assert "live release: 1.0.0" in text
    assert "next version: v1.0.1 (patch)" in text


def test_a_repository_never_synced_prints_empty_release_fields(governed):
    governed.push()
    from releases import services

    governed.repository = services.repository_create(
        actor="test", name="pipeline", origin=str(governed.world.origin)
    )
    data = json.loads(status("pipeline", "--json"))
    assert data["releases"] == [] and data["backports"] == [] and data["not_semver_tags"] == []
    assert data["next_version"] == {"version": None, "tag": None, "bump": None, "changelog": []}
    assert data["production_line"] == {
        "head": None,
        "latest_release": None,
        "commits_past_latest": None,
    }


def test_without_a_release_nothing_is_counted_past_it(governed):
    governed.push()
    governed.sync()
    data = json.loads(status("pipeline", "--json"))
    assert data["releases"] == []
    line = data["production_line"]
    assert len(line["head"]) == 40
    assert line["latest_release"] is None and line["commits_past_latest"] is None


def test_the_readme_names_exactly_the_fields_it_prints(governed):
    from pathlib import Path

    w = governed.world
    governed.tag("1.0.0")
    governed.tag("nightly")
    w.checkout("hotfix/a", new_from="production")
    w.commit("fix: hot", files={"hot.py": "hot = 1\n"})
    w.checkout("production")
    w.merge("hotfix/a")
    w.checkout("development")
    w.commit("feat: new", files={"new.py": "n = 1\n"})
    w.checkout("production")
    governed.push()
    governed.sync()
    data = json.loads(status("pipeline", "--json"))
    printed = set(data)
    for key in ("branches", "releases", "not_semver_tags", "backports"):
        assert data[key], key
        printed |= set(data[key][0])
    printed |= set(data["production_line"]) | set(data["next_version"])
    printed |= set(data["next_version"]["changelog"][0])
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start = readme.index("`repo status --json` prints")
    described = readme[start : readme.index("`.", start)]
    named = set(re.findall(r'"([a-z_]+)"', described))
    assert named - {"repository"} == printed - {"repository"}
