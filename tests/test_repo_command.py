"""`repo add | sync | status` from the command line, including bad input."""

import json
import subprocess

import pytest
from django.core.management import CommandError, call_command

from releases.clones import clone_dir
from releases.models import AuditEvent, Repository

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("repo", *args, stdout=out)
    return out.getvalue()


def test_add_registers_clones_and_syncs(world):
    out = run("add", "pipeline", "--origin", str(world.origin))
    assert "Registered pipeline" in out
    assert "5 new" in out
    repository = Repository.objects.get(name="pipeline")
    assert repository.required_approvals == 2
    assert clone_dir("pipeline").is_dir()
    assert AuditEvent.objects.filter(action="repository.registered").count() == 1


def test_add_accepts_a_file_url_and_custom_branch_names(tmp_path):
    from tests.support.gitrepo import GitWorld

    world = GitWorld(tmp_path / "g", production="main", development="dev")
    world.commit("chore: start")
    world.checkout("dev", new_from="main")
    world.push_all()
    run(
        "add",
        "other",
        "--origin",
        f"file://{world.origin}",
        "--production-branch",
        "main",
        "--development-branch",
        "dev",
        "--required-approvals",
        "3",
    )
    repository = Repository.objects.get(name="other")
    assert (repository.production_branch, repository.required_approvals) == ("main", 3)


@pytest.mark.parametrize(
    ("origin", "message"),
    [
        ("ext::sh -c touch% /tmp/pwned", "remote helper"),
        ("--upload-pack=touch /tmp/pwned", "command-line option"),
        ("fd::17", "remote helper"),
        ("ftp://example.org/repo.git", "scheme ftp:// is not allowed"),
        ("git@example.org:repo.git", "neither a path nor a URL"),
        ("relative/path", "must be absolute"),
    ],
)
def test_add_refuses_dangerous_or_unknown_origins(origin, message, tmp_path):
    with pytest.raises(CommandError, match=message):
        run("add", "bad", "--origin", origin)
    assert not Repository.objects.exists()
    assert not clone_dir("bad").exists()
    assert not (tmp_path / "pwned").exists()


def test_add_refuses_a_path_that_is_not_a_git_repository(tmp_path):
    with pytest.raises(CommandError, match="does not appear to be a git repository"):
        run("add", "bad", "--origin", str(tmp_path))
    assert not Repository.objects.exists()
    assert not clone_dir("bad").exists()


def test_add_refuses_a_repository_with_no_commits(empty_world):
    with pytest.raises(CommandError, match="has no commits"):
        run("add", "bad", "--origin", str(empty_world.origin))
    assert not Repository.objects.exists()


def test_add_refuses_a_missing_development_branch(world):
    with pytest.raises(CommandError, match="no branch 'develop'"):
        run("add", "bad", "--origin", str(world.origin), "--development-branch", "develop")
    assert not Repository.objects.exists()
    assert not clone_dir("bad").exists()


def test_add_refuses_a_duplicate_name(world):
    run("add", "pipeline", "--origin", str(world.origin))
    with pytest.raises(CommandError, match="already exists"):
        run("add", "pipeline", "--origin", str(world.origin))
    assert Repository.objects.count() == 1


def test_add_refuses_zero_required_approvals(world):
    with pytest.raises(CommandError, match="required_approvals"):
        run("add", "pipeline", "--origin", str(world.origin), "--required-approvals", "0")


def test_status_json_lists_branches_with_divergence(world):
    run("add", "pipeline", "--origin", str(world.origin))
    status = json.loads(run("status", "pipeline", "--json"))
    assert status["repository"]["name"] == "pipeline"
    assert status["repository"]["development_behind_production"] == 2
    by_name = {b["name"]: b for b in status["branches"]}
    assert set(by_name) == {
        "production",
        "development",
        "feature/drift",
        "feature/open-work",
        "hotfix/urgent",
    }
    open_work = by_name["feature/open-work"]
    assert (open_work["ahead_of_development"], open_work["behind_development"]) == (
        world.divergence("development", "feature/open-work")
    )
    assert {"kind", "head", "ahead_of_production", "behind_production"} <= set(open_work)


def test_sync_reports_an_unknown_repository():
    with pytest.raises(CommandError, match="No repository named 'nope'"):
        run("sync", "nope")


def test_sync_exits_non_zero_when_the_origin_is_gone(world):
    import shutil

    run("add", "pipeline", "--origin", str(world.origin))
    shutil.rmtree(world.origin)
    with pytest.raises(CommandError, match="Sync of pipeline failed"):
        run("sync", "pipeline")


def test_the_command_line_exits_with_status_1_and_a_message(world, tmp_path):
    import os
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "repo", "add", "x", "--origin", "ext::sh"],
        capture_output=True,
        text=True,
        env={**os.environ, "EWSDASH_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 1
    assert "remote helper" in result.stderr


def test_add_in_github_mode_names_the_project_and_the_token_variable(world):
    run(
        "add",
        "pipeline",
        "--origin",
        str(world.origin),
        "--no-sync",
        "--forge",
        "github",
        "--forge-project",
        "views-platform/pipeline",
        "--forge-token-env",
        "VIEWS_GITHUB_TOKEN",
        "--production-protected",
        "--forge-reviews-approve",
    )
    repository = Repository.objects.get(name="pipeline")
    assert (repository.forge, repository.forge_project, repository.forge_token_env) == (
        "github",
        "views-platform/pipeline",
        "VIEWS_GITHUB_TOKEN",
    )
    assert repository.production_protected and repository.forge_reviews_approve


@pytest.mark.parametrize(
    "args, message",
    [
        (["--forge-project", "no-slash"], "owner/repo"),
        (["--forge-project", "a/b", "--forge-token-env", "ghp_abc123"], "never the token itself"),
    ],
)
def test_add_refuses_a_bad_forge_setting(world, args, message):
    with pytest.raises(CommandError, match=message) as refused:
        run("add", "pipeline", "--origin", str(world.origin), "--forge", "github", *args)
    assert "ghp_abc123" not in str(refused.value)
    assert not Repository.objects.exists()
