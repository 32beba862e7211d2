"""Hostile checks: a git world whose development commit declares them, run for real."""

from __future__ import annotations

import shutil

import pytest

from monitoring import runs
from monitoring.models import ValidationRun
from monitoring.validation.sandbox import sandbox_problem
from tests.validation_runs.conftest import commit_on, no_enqueue, run_queued_inline, toml

__all__ = ["no_enqueue"]

needs_bwrap = pytest.mark.skipif(
    shutil.which("bwrap") is None or sandbox_problem() is not None,
    reason=f"needs a working bubblewrap: {sandbox_problem()}",
)


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
