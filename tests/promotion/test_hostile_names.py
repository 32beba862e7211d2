"""Names from the origin are text: a long branch, author or version never breaks a sync or
a candidate; a ref too long for the database's indexes is left out with the reason shown.
Run on PostgreSQL too (the failures these guard against were varchar(255) limits there)."""

import pytest
from django.urls import reverse

from releases import candidates, sync, versioning
from releases.errors import ActionRefused
from releases.models import Branch

pytestmark = pytest.mark.django_db

# 310 characters, in components short enough for a file system's name limit.
LONG_HOTFIX = "hotfix/" + "/".join(["h" * 100, "o" * 100, "t" * 101])
HUGE_BRANCH = "feature/" + "/".join(["x" * 200] * 6)  # 1,213 bytes


def test_a_310_character_branch_syncs_and_becomes_a_candidate(
    repo, users, world, django_capture_on_commit_callbacks
):
    assert len(LONG_HOTFIX) == 310
    world.checkout(LONG_HOTFIX, new_from="production")
    world.commit("fix: urgent", author="A" * 400, email="a" * 300 + "@pipeline.example")
    world.push(LONG_HOTFIX)
    outcome = sync.repository_sync(repository=repo)
    assert outcome.error == ""
    branch = Branch.objects.get(repository=repo, name=LONG_HOTFIX)
    assert branch.author_name == "A" * 400
    with django_capture_on_commit_callbacks(execute=False):
        made = candidates.candidate_create(
            repository=repo, actor=users["rm-ana"], source_branch=LONG_HOTFIX
        )
    assert made.source_branch == LONG_HOTFIX and made.kind == "hotfix"


def test_a_306_character_version_override_is_accepted(
    repo, users, django_capture_on_commit_callbacks
):
    version = "2.0.0-" + "a" * 300
    with django_capture_on_commit_callbacks(execute=False):
        made = candidates.candidate_create(repository=repo, actor=users["rm-ana"], version=version)
    made.refresh_from_db()
    assert made.version == version


def test_a_version_too_long_for_the_indexes_is_refused_with_a_reason(repo, users):
    with pytest.raises(ActionRefused, match="longer than 1000 bytes"):
        candidates.candidate_create(
            repository=repo, actor=users["rm-ana"], version="2.0.0-" + "a" * 1200
        )


def test_a_branch_too_long_for_the_indexes_is_left_out_and_shown(repo, world, login):
    world.origin_git("update-ref", f"refs/heads/{HUGE_BRANCH}", world.head("production"))
    outcome = sync.repository_sync(repository=repo)
    assert outcome.error == ""
    repo.refresh_from_db()
    assert not Branch.objects.filter(name=HUGE_BRANCH).exists()
    assert repo.refused_refs == [
        {"ref": HUGE_BRANCH, "reason": "branch name longer than 1000 bytes (1213)"}
    ]
    page = login("viewer").get(reverse("branch_list", kwargs={"name": "pipeline"}))
    assert b"branch name longer than 1000 bytes" in page.content


def test_a_tag_too_long_for_the_indexes_is_not_a_release():
    # (A semver tag holds no "/", so only packed refs at a forge can make one this long,
    # and git itself cannot fetch it into a file-system ref; the rule is checked directly.)
    assert versioning.parse_version_tag("v9.9.9-" + "t" * 1100).reason == (
        "longer than 1000 bytes (1107)"
    )
