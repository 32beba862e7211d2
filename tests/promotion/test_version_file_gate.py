"""A release's version must agree with pyproject.toml's (a configurable path) to promote."""

import pytest

from releases import candidates, sync
from releases.errors import ActionRefused
from tests.promotion.conftest import waive
from tests.promotion.factories import gates_of

pytestmark = pytest.mark.django_db

PYPROJECT = '[project]\nname = "views-pipeline-core"\nversion = "{}"\n'


def create(repo, users, capture):
    sync.repository_sync(repository=repo)
    with capture(execute=False):
        made = candidates.candidate_create(repository=repo, actor=users["rm-ana"])
    made.refresh_from_db()
    return made


def version_gate(candidate):
    return next(g for g in gates_of(candidate) if g.key == "version_file")


def test_a_version_file_that_disagrees_blocks_promotion(
    repo, users, world, django_capture_on_commit_callbacks
):
    world.checkout("development")
    world.commit("chore: package metadata", files={"pyproject.toml": PYPROJECT.format("1.0.0")})
    world.push("development")
    stale = create(repo, users, django_capture_on_commit_callbacks)
    assert stale.version == "1.1.0" and stale.version_in_file == "1.0.0"
    gate = version_gate(stale)
    assert not gate.ok
    assert gate.detail == (
        "pyproject.toml says 1.0.0 but this release is 1.1.0: bump it on development "
        "and create a new candidate"
    )
    waive(stale, users)
    candidates.candidate_approve(candidate=stale, actor=users["rm-ben"])
    candidates.candidate_approve(candidate=stale, actor=users["admin"])
    stale.refresh_from_db()
    with pytest.raises(ActionRefused):
        candidates.candidate_promote(candidate=stale, actor=users["rm-ben"])

    world.commit("chore: bump to 1.1.0", files={"pyproject.toml": PYPROJECT.format("1.1.0")})
    world.push("development")
    bumped = create(repo, users, django_capture_on_commit_callbacks)
    assert version_gate(bumped).ok and version_gate(bumped).detail == "pyproject.toml says 1.1.0"


def test_without_the_file_or_with_the_check_off_it_passes(
    repo, users, django_capture_on_commit_callbacks
):
    made = create(repo, users, django_capture_on_commit_callbacks)
    assert version_gate(made).ok and "declares no version" in version_gate(made).detail
    repo.version_file = ""
    repo.save()
    made.refresh_from_db()
    assert version_gate(made).detail == "not checked (no version file set)"
