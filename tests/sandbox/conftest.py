"""Hostile checks: a git world whose development commit declares them, run for real."""

from __future__ import annotations

import os

import pytest

from monitoring import runs
from monitoring.models import ValidationRun
from monitoring.validation.sandbox import sandbox_problem
from tests.support.tools import require_tool
from tests.validation_runs.conftest import commit_on, no_enqueue, run_queued_inline, toml

__all__ = ["no_enqueue"]


@pytest.fixture
def working_bwrap(settings) -> None:
    """A bubblewrap that can make a sandbox here: missing, it skips locally, fails in CI."""
    require_tool("bwrap", install="apt-get install -y bubblewrap")
    problem = sandbox_problem()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    settings.EWSDASH_SANDBOX = "bwrap"


needs_bwrap = pytest.mark.usefixtures("working_bwrap")


def hostile(name: str, run: str, *, timeout: str = "1m", extra: str = "") -> str:
    """A manifest of one command check named `name` running `run` (TOML literal string)."""
    assert "'''" not in run
    return toml(
        f"""
        [[check]]
        name = "{name}"
        kind = "command"
        run = '''{run}'''
        timeout = "{timeout}"
        {extra}
        """
    )


def validate_inline(repository, world, manifest: str, *, message: str = "ci: hostile"):
    """Commit `manifest` on development, validate it in this process, return the run."""
    sha = commit_on(world, "development", message, {"ewsdash.toml": manifest})
    run = runs.validation_run_start(
        repository=repository, commit=sha, actor="test", purpose="manual"
    )
    run_queued_inline(run)
    return ValidationRun.objects.get(pk=run.pk)
