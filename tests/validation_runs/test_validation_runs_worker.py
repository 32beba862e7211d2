"""End to end on a real Celery worker: commands, time-outs, huge logs, cancel, artifacts."""

from __future__ import annotations

import hashlib
import time

import pytest
from django.conf import settings
from django.urls import reverse

from monitoring import runs
from monitoring.models import Artifact, CheckResult, ValidationRun
from tests.support.processes import processes_with
from tests.support.worker import wait_for
from tests.validation_runs.conftest import commit_on, toml

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def start(repository, commit, purpose="manual"):
    return runs.validation_run_start(
        repository=repository, commit=commit, actor="test", purpose=purpose
    )


def finished(run: ValidationRun, timeout: float = 90) -> ValidationRun:
    def done():
        fresh = ValidationRun.objects.get(pk=run.pk)
        return fresh if fresh.is_finished else None

    return wait_for(
        done,
        timeout=timeout,
        interval=0.2,
        message=f"run {run.pk} did not finish: "
        f"{list(CheckResult.objects.filter(run=run).values_list('name', 'status'))}",
    )


def test_a_passing_and_a_failing_command(celery_worker_process, registered, world):
    manifest = toml(
        """
        [[check]]
        name = "good"
        kind = "command"
        run = "echo all good"

        [[check]]
        name = "bad"
        kind = "command"
        run = "echo broken >&2; exit 4"
        """
    )
    sha = commit_on(world, "development", "ci", {"ewsdash.toml": manifest})
    run = finished(start(registered, sha))
    good, bad = run.checks.order_by("position")
    assert (good.status, good.exit_code, good.log.strip()) == ("passed", 0, "all good")
    assert (bad.status, bad.exit_code) == ("failed", 4)
    assert "broken" in bad.log and bad.summary == "the command exited with status 4"
    assert run.status == "failed" and run.summary == "failed: bad"
    assert good.claims == bad.claims == 1
    # The worktrees go after the result is written (execution.check_result_run): wait.
    worktrees = settings.EWSDASH_CLONES_DIR / "worktrees"
    wait_for(
        lambda: not any(worktrees.iterdir()),
        timeout=30,
        message=f"worktrees left behind: {list(worktrees.iterdir())}",
    )


def test_a_timeout_kills_the_command_and_its_children(celery_worker_process, registered, world):
    manifest = toml(
        """
        [[check]]
        name = "slow"
        kind = "command"
        run = "sleep 3001 & setsid sleep 3002 & sleep 3003"
        timeout = "3s"
        """
    )
    sha = commit_on(world, "development", "ci", {"ewsdash.toml": manifest})
    run = finished(start(registered, sha), timeout=60)
    check = run.checks.get()
    assert check.status == "timed_out"
    assert check.summary == "timed out after 3s; process group killed"
    assert run.status == "timed_out"
    for marker in ("sleep 3001", "sleep 3002", "sleep 3003"):
        wait_for(lambda m=marker: not processes_with(m), timeout=10, message=f"{marker} survived")


def test_a_check_printing_200_mb_keeps_a_bounded_log(celery_worker_process, registered, world):
    manifest = toml(
        """
        [[check]]
        name = "chatty"
        kind = "command"
        run = "python chatty.py"
        """
    )
    chatty = "import sys\nfor _ in range(200 * 1024):\n    sys.stdout.write('x' * 1023 + '\\n')\n"
    sha = commit_on(
        world,
        "development",
        "ci",
        {"ewsdash.toml": manifest, "chatty.py": chatty + "print('THE END')\n"},
    )
    run = finished(start(registered, sha), timeout=120)
    check = run.checks.get()
    assert check.status == "passed", check.summary
    assert check.log_bytes == 200 * 1024 * 1024 + len("THE END\n")
    assert check.log_bytes_omitted > 199 * 1024 * 1024
    assert len(check.log) < 200 * 1024
    assert check.log.rstrip().endswith("THE END")
    assert "bytes omitted" in check.log


def test_cancel_stops_a_running_check_and_kills_its_processes(
    celery_worker_process, registered, world, login
):
    manifest = toml(
        """
        [[check]]
        name = "forever"
        kind = "command"
        run = "sleep 3011 & setsid sleep 3012 & echo started; sleep 3013"

        [[check]]
        name = "after"
        kind = "command"
        run = "true {artifacts:forever}"
        """
    )
    sha = commit_on(world, "development", "ci", {"ewsdash.toml": manifest})
    run = start(registered, sha)
    wait_for(lambda: processes_with("sleep 3013"), timeout=60)
    check = run.checks.get(name="forever")
    assert CheckResult.objects.get(pk=check.pk).status == "running"
    client = login("rm-ana")
    page = client.get(
        reverse("validation_run_detail", kwargs={"name": "pipeline", "run_id": run.pk})
    )
    assert b'data-testid="cancel-run"' in page.content and b'hx-trigger="every 2s"' in page.content
    started = time.monotonic()
    response = client.post_form(
        reverse("validation_run_cancel", kwargs={"name": "pipeline", "run_id": run.pk})
    )
    assert response.status_code == 302
    run = finished(run, timeout=30)
    took = time.monotonic() - started
    statuses = dict(run.checks.values_list("name", "status"))
    assert statuses == {"forever": "cancelled", "after": "cancelled"}
    assert run.status == "cancelled"
    assert took < 10
    for marker in ("sleep 3011", "sleep 3012", "sleep 3013"):
        wait_for(lambda m=marker: not processes_with(m), timeout=10, message=f"{marker} survived")
    page = client.get(
        reverse("validation_run_detail", kwargs={"name": "pipeline", "run_id": run.pk})
    )
    assert b"hx-trigger" not in page.content  # polling stops once the run is finished


def test_artifacts_are_stored_once_by_content(celery_worker_process, registered, world):
    manifest = toml(
        """
        [[check]]
        name = "writer"
        kind = "command"
        run = "cd {artifacts} && echo same > a.txt && echo same > b.txt && echo other > c.txt"

        [[check]]
        name = "writer-again"
        kind = "command"
        run = "echo same > {artifacts}/again.txt"
        """
    )
    sha = commit_on(world, "development", "ci", {"ewsdash.toml": manifest})
    run = finished(start(registered, sha))
    assert run.status == "passed", run.summary
    same = hashlib.sha256(b"same\n").hexdigest()
    assert Artifact.objects.count() == 2
    stored = settings.EWSDASH_ARTIFACTS_DIR / "sha256" / same[:2] / same[2:]
    assert stored.read_bytes() == b"same\n"
    writer = run.checks.get(name="writer")
    assert {(u.name, u.artifact.sha256) for u in writer.artifacts.all()} == {
        ("a.txt", same),
        ("b.txt", same),
        ("c.txt", hashlib.sha256(b"other\n").hexdigest()),
    }
    assert run.checks.get(name="writer-again").artifacts.get().artifact.sha256 == same


# One manifest for production and the candidate (a candidate is judged by production's
# manifest): the score comes from the commit's score.txt; without one nothing is written.
SCORES_RUN = (
    'test ! -f score.txt || printf "model,target,metric,step,value\\nm,t,mse,1,%s\\n" '
    '"$(cat score.txt)" > {artifacts}/m.csv'
)
SCORES = f"""
[[check]]
name = "scores"
kind = "command"
run = '{SCORES_RUN}'

[[check]]
name = "performance"
kind = "performance"
from = "scores"
metrics = "{{artifacts}}/m.csv"
tolerance = 0.01
"""


def test_performance_is_compared_with_the_production_reference_run(
    celery_worker_process, registered, world
):
    commit_on(world, "production", "ci: scores", {"ewsdash.toml": SCORES, "score.txt": "1.0"})
    candidate = commit_on(
        world, "development", "ci: scores", {"ewsdash.toml": SCORES, "score.txt": "1.5"}
    )
    run = start(registered, candidate, purpose="candidate")
    reference = run.reference
    assert reference is not None and reference.commit == world.head("production")
    run = finished(run)
    reference = finished(reference)
    assert reference.status == "passed"
    assert reference.checks.get(name="performance").summary.startswith(
        "production reference run: recorded as the baseline"
    )
    performance = run.checks.get(name="performance")
    assert performance.status == "failed"
    assert "m/t/mse (step 1): 1.5 vs production 1 (+50.00% worse" in performance.summary
    assert performance.details["baseline"]["run"] == reference.pk
    assert list(
        performance.metrics.values_list("model", "metric", "step", "value", "direction")
    ) == [("m", "mse", 1, 1.5, "lower")]
    assert run.status == "failed"


def test_a_failed_reference_check_means_no_production_baseline(
    celery_worker_process, registered, world
):
    # Production has no score.txt: its scores check writes nothing, its performance fails.
    commit_on(world, "production", "ci: no scores", {"ewsdash.toml": SCORES})
    candidate = commit_on(
        world, "development", "ci: scores", {"ewsdash.toml": SCORES, "score.txt": "1.0"}
    )
    run = finished(start(registered, candidate, purpose="candidate"))
    performance = run.checks.get(name="performance")
    assert performance.status == "failed"
    assert performance.summary.startswith(
        'no production baseline: the check "performance" of production'
    )
    assert "ended failed" in performance.summary


def test_the_validate_command_waits_for_the_verdict(
    celery_worker_process, registered, world, capsys
):
    from django.core.management import call_command

    from tests.validation_runs.conftest import PASSING

    commit_on(world, "development", "ci", {"ewsdash.toml": PASSING})
    call_command("validate", "pipeline", "development", "--wait", "--timeout", "60")
    out = capsys.readouterr().out
    assert "passed     unit-tests: the command exited with 0" in out
    assert out.strip().splitlines()[-1].startswith("run #")
    assert ": passed — 1 required checks passed" in out
