"""A governed repository whose development contains production, ready to promote."""

from __future__ import annotations

import pytest

from releases import candidates, services, sync


def make_promotable(world) -> None:
    """Back-merge the basic world's hotfix so development contains production."""
    world.checkout("development")
    world.git(
        "merge", "--quiet", "--no-ff", "-m", "Merge production into development", "production"
    )
    world.commit("feat(models): add lavender_haze", files={"models/lavender_haze/c.py": "x=2\n"})
    world.push_all()


@pytest.fixture
def repo(world, users, db):
    make_promotable(world)
    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    sync.repository_sync(repository=repository)
    return repository


def waive(candidate, users) -> None:
    """The honest way past validation in a repository without a manifest: an admin waiver."""
    candidates.candidate_waive_validation(
        candidate=candidate, actor=users["admin"], reason="no manifest in this test repository"
    )
    candidate.refresh_from_db()


@pytest.fixture
def candidate(repo, users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        made = candidates.candidate_create(repository=repo, actor=users["rm-ana"])
    made.refresh_from_db()
    return made


@pytest.fixture
def validated(candidate, users):
    waive(candidate, users)
    return candidate


@pytest.fixture
def approved(validated, users):
    candidates.candidate_approve(candidate=validated, actor=users["rm-ben"])
    candidates.candidate_approve(candidate=validated, actor=users["admin"])
    validated.refresh_from_db()
    return validated
