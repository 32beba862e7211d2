"""A repository may keep blobless partial clones (--filter=blob:none): the sync records the
same facts, and file contents arrive from the origin only when git needs them."""

import subprocess

import pytest
from django.core.management import call_command

from releases import services, sync
from releases.clones import clone_dir
from releases.models import BackportItem, Branch, Release, Repository

pytestmark = pytest.mark.django_db


def facts(name: str) -> dict:
    repository = Repository.objects.get(name=name)
    return {
        "branches": sorted(
            Branch.objects.filter(repository=repository).values_list(
                "name", "head", "ahead_of_production", "behind_production"
            )
        ),
        "releases": sorted(Release.objects.filter(repository=repository).values_list("version")),
        "backports": sorted(
            BackportItem.objects.filter(repository=repository).values_list("commit", "resolved_how")
        ),
    }


def missing_blobs(name: str) -> int:
    out = subprocess.run(
        ["git", "rev-list", "--all", "--objects", "--missing=print"],
        cwd=clone_dir(name),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sum(1 for line in out.splitlines() if line.startswith("?"))


@pytest.fixture
def origin_allows_filters(world):
    subprocess.run(
        ["git", "config", "uploadpack.allowFilter", "true"], cwd=world.origin, check=True
    )
    return world


def test_a_partial_clone_records_the_same_facts_as_a_full_one(origin_allows_filters, users):
    world = origin_allows_filters
    full = services.repository_create(actor="test", name="full", origin=str(world.origin))
    sync.repository_sync(repository=full)
    call_command("repo", "add", "partial", "--origin", str(world.origin), "--partial-clone")
    partial = Repository.objects.get(name="partial")

    assert partial.partial_clone and not full.partial_clone
    assert facts("partial") == facts("full")
    config = subprocess.run(
        ["git", "config", "remote.origin.partialclonefilter"],
        cwd=clone_dir("partial"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert config == "blob:none"
    # Only what the sync needed came over: some files' contents are still at the origin.
    assert missing_blobs("partial") > 0 and missing_blobs("full") == 0


def test_a_file_missing_from_a_partial_clone_is_fetched_when_needed(origin_allows_filters):
    from releases import git
    from releases.clones import clone_session

    world = origin_allows_filters
    repository = services.repository_create(
        actor="test", name="partial", origin=str(world.origin), partial_clone=True
    )
    before = missing_blobs("partial")
    with clone_session(repository) as repo:
        text = git.read_file_at(repo, "refs/heads/development", "models/purple_alien/a.py")
    assert text == b"x=1\n"
    assert missing_blobs("partial") < before
