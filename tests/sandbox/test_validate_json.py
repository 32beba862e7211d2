"""Item 6: `validate NAME REF --wait --json` prints the verdict as JSON, exits 0 only on a pass."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.sandbox.conftest import needs_bwrap
from tests.sandbox.test_trusted_manifest import PRODUCTION, WEAKENED
from tests.support.worker import BASE, WorkerProcess
from tests.validation_runs.conftest import commit_on

pytestmark = [needs_bwrap, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def validate_json(ref: str) -> tuple[int, dict]:
    env = WorkerProcess.env(WorkerProcess(BASE / "unused.log"))
    done = subprocess.run(
        [sys.executable, "manage.py", "validate", "pipeline", ref, "--wait", "--json"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    return done.returncode, json.loads(done.stdout)


def test_a_weakened_manifest_fails_as_json(celery_worker_process, registered, world):
    commit_on(world, "production", "ci: production's checks", {"ewsdash.toml": PRODUCTION})
    sha = commit_on(world, "development", "ci: drop the guard", {"ewsdash.toml": WEAKENED})
    code, verdict = validate_json(sha)
    assert code == 1
    assert verdict["commit"] == sha
    assert (verdict["status"], verdict["summary"]) == ("failed", "failed: guard")
    assert verdict["manifest"] == {"source": "production", "changed": True}
    checks = [
        {**check, "summary": check["summary"].split(" in ")[0]} for check in verdict["checks"]
    ]
    assert checks == [  # the summaries end "in 0.0s"
        {
            "name": "unit",
            "kind": "command",
            "required": True,
            "status": "passed",
            "summary": "the command exited with 0",
        },
        {
            "name": "guard",
            "kind": "command",
            "required": True,
            "status": "failed",
            "summary": "the command exited with status 1",
        },
    ]
    assert isinstance(verdict["run"], int)


def test_a_passing_run_exits_0(celery_worker_process, registered, world):
    sha = commit_on(world, "production", "ci: production's checks", {"ewsdash.toml": WEAKENED})
    code, verdict = validate_json(sha)
    assert code == 0
    assert verdict["status"] == "passed"
    assert verdict["manifest"] == {"source": "production", "changed": False}
