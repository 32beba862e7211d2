"""Branch kinds come from name prefixes: VIEWS's habits by default, configurable."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from ewsdash.env import env_prefixes
from releases import sync
from releases.models import Branch, BranchKind

pytestmark = pytest.mark.django_db

KINDS = ("feature", "hotfix", "fix", "release", "docs", "refactor", "experiment")


def test_the_views_prefixes_are_known_by_default(registered, world):
    names = [
        "feat/purple-alien-diagnostics",
        "fix/150-ensemble-month-boundary-validation",
        "bugfix/nan-steps",
        "release/bump-1.4.0",
        "docs/322-adr046-realign",
        "adr/model_governance",
        "refactor/polars_stage_1",
        "exp/hurdle",
        "shurf",
    ]
    for name in names:
        world.checkout(name, new_from="development")
    world.push_all()
    sync.repository_sync(repository=registered, force=True)
    kinds = dict(Branch.objects.filter(repository=registered).values_list("name", "kind"))
    assert {name: kinds[name] for name in names} == {
        "feat/purple-alien-diagnostics": "feature",
        "fix/150-ensemble-month-boundary-validation": "fix",
        "bugfix/nan-steps": "fix",
        "release/bump-1.4.0": "release",
        "docs/322-adr046-realign": "docs",
        "adr/model_governance": "docs",
        "refactor/polars_stage_1": "refactor",
        "exp/hurdle": "experiment",
        "shurf": "other",
    }
    assert kinds["feature/drift"] == "feature" and kinds["hotfix/urgent"] == "hotfix"


def test_a_setting_replaces_the_prefixes(registered, settings):
    settings.EWSDASH_BRANCH_PREFIXES = {"experiment": ("feature/",), "hotfix": ("hotfix/urg",)}
    sync.repository_sync(repository=registered, force=True)
    kinds = dict(Branch.objects.filter(repository=registered).values_list("name", "kind"))
    assert kinds["feature/drift"] == "experiment" and kinds["hotfix/urgent"] == "hotfix"


def test_the_environment_is_read_strictly(monkeypatch):
    monkeypatch.setenv("X_PREFIXES", "feature=feat/,feature/; hotfix=hotfix/")
    assert env_prefixes("X_PREFIXES", {}, kinds=KINDS) == {
        "feature": ("feat/", "feature/"),
        "hotfix": ("hotfix/",),
    }
    for bad in ("feature", "chores=chore/", "feature=feat/,", "feature=x/;fix=x/"):
        monkeypatch.setenv("X_PREFIXES", bad)
        with pytest.raises(ImproperlyConfigured, match="X_PREFIXES"):
            env_prefixes("X_PREFIXES", {}, kinds=KINDS)


def test_every_configurable_kind_is_a_branch_kind(settings):
    assert set(settings.EWSDASH_BRANCH_PREFIXES) <= set(BranchKind.values)
    assert set(KINDS) | {"production", "development", "other"} == set(BranchKind.values)
