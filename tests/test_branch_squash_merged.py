"""A branch squash-merged or cherry-picked is merged, and says how that was found."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from releases import merges, sync
from releases.models import Branch

pytestmark = pytest.mark.django_db


def branch(repository, name) -> Branch:
    return Branch.objects.get(repository=repository, name=name)


def test_a_squash_merged_hotfix_is_merged_by_tree(registered, world):
    # views-models #207: a two-commit fix squash-merged into main (production).
    world.checkout("fix/target-transform", new_from="production")
    world.commit("fix: add target_transform", files={"models/a/configs/c.py": "t = 1\n"})
    world.commit("fix: and its test", files={"tests/test_c.py": "assert True\n"})
    world.checkout("production")
    world.git("merge", "--quiet", "--squash", "fix/target-transform")
    world.git("commit", "--quiet", "-m", "fix(configs): add target_transform (#207)")
    world.push_all()
    sync.repository_sync(repository=registered)
    assert not branch(registered, "fix/target-transform").is_merged  # counts alone
    assert merges.branch_merges_record(repository=registered) == 2  # with open-work
    fixed = branch(registered, "fix/target-transform")
    assert fixed.ahead_of_production == 2  # not an ancestor: git rev-list says 2 ahead
    assert fixed.is_merged
    assert (fixed.how_merged, fixed.merged_target) == ("tree", "production")


def test_cherry_picked_commits_are_merged_by_patch_id(registered, world):
    world.checkout("feat/small", new_from="development")
    one = world.commit("feat: one", files={"one.py": "1\n"})
    world.checkout("development")
    world.commit("feat: development moves on", files={"other.py": "2\n"})
    world.git("cherry-pick", one)
    # ... and then changes the picked file, so merging the branch would no longer be a
    # no-op: only the patch-id shows the commit is in.
    world.commit("feat: extend one", files={"one.py": "1\n2\n"})
    world.push_all()
    sync.repository_sync(repository=registered)
    merges.branch_merges_record(repository=registered)
    small = branch(registered, "feat/small")
    assert small.ahead_of_development == 1
    assert (small.how_merged, small.merged_target) == ("patch-id", "development")


def test_open_work_is_not_merged_and_the_json_says_how(registered, world):
    out = StringIO()
    call_command("repo", "status", "pipeline", "--json", stdout=out)
    branches = {b["name"]: b for b in json.loads(out.getvalue())["branches"]}
    assert branches["feature/open-work"]["merged"] is False
    assert branches["feature/open-work"]["merged_by"] is None
    drift = branches["feature/drift"]
    assert (drift["merged"], drift["merged_by"], drift["merged_into"]) == (
        True,
        "ancestry",
        "development",
    )


def test_a_check_is_repeated_only_when_a_head_moves(registered, world):
    assert merges.branch_merges_record(repository=registered) == 1  # feature/open-work
    assert merges.branch_merges_record(repository=registered) == 0
    sync.repository_sync(repository=registered, force=True)  # nothing moved
    assert merges.branch_merges_record(repository=registered) == 0
    world.checkout("development")
    world.commit("feat: development moves", files={"moved.py": "1\n"})
    world.push_all()
    sync.repository_sync(repository=registered)
    assert merges.branch_merges_record(repository=registered) == 1
    assert not branch(registered, "feature/open-work").is_merged


def test_a_merged_branch_stays_merged_while_its_head_stays(registered, world):
    world.checkout("fix/squashed", new_from="production")
    world.commit("fix: one", files={"f.py": "1\n"})
    world.checkout("production")
    world.git("merge", "--quiet", "--squash", "fix/squashed")
    world.git("commit", "--quiet", "-m", "fix: one (squashed)")
    world.push_all()
    sync.repository_sync(repository=registered)
    merges.branch_merges_record(repository=registered)
    world.commit("chore: production moves on", files={"g.py": "2\n"})
    world.push_all()
    sync.repository_sync(repository=registered)
    kept = branch(registered, "fix/squashed")
    assert (kept.how_merged, kept.merged_target) == ("tree", "production")
