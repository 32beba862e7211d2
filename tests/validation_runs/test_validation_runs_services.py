"""Starting, dispatching and finishing runs on real git repositories (checks run inline)."""

from __future__ import annotations

import pytest

from monitoring import claims, reaper, runs
from monitoring.models import CheckResult, ValidationRun
from releases.errors import ActionRefused
from releases.models import AuditEvent
from tests.validation_runs.conftest import PASSING, commit_on, run_queued_inline, toml

pytestmark = pytest.mark.django_db(transaction=True)


def start(repository, commit, purpose="manual"):
    return runs.validation_run_start(
        repository=repository, commit=commit, actor="test", purpose=purpose
    )


def test_it_reads_the_manifest_at_the_commit_not_at_the_branch_head(registered, world, no_enqueue):
    first = commit_on(world, "development", "ci: declare checks", {"ewsdash.toml": PASSING})
    commit_on(
        world,
        "development",
        "ci: change checks",
        {"ewsdash.toml": PASSING.replace("unit-tests", "other-tests")},
    )
    run = start(registered, first)
    assert run.commit == first
    assert [c.name for c in run.checks.all()] == ["unit-tests"]
    assert run.manifest["check"][0]["run"] == "echo testing && test -f README.md"
    assert run.manifest_path == "ewsdash.toml"


def test_it_resolves_a_branch_name_to_its_commit(registered, world, no_enqueue):
    sha = commit_on(world, "development", "ci: declare checks", {"ewsdash.toml": PASSING})
    run = start(registered, "development")
    assert run.commit == sha


def test_a_malformed_manifest_fails_the_run_naming_file_line_and_field(registered, world):
    broken = PASSING + toml(
        """
        [[check]]
        name = "oops"
        kind = "inference"
        run = "true"
        """
    )
    sha = commit_on(world, "development", "ci: broken", {"ewsdash.toml": broken})
    run = start(registered, sha)
    assert run.status == "failed"
    assert run.is_finished
    assert "ewsdash.toml" in run.manifest_error
    assert "line 6" in run.manifest_error
    assert 'field "predictions"' in run.manifest_error
    assert run.checks.count() == 0


def test_bad_toml_names_the_line(registered, world):
    sha = commit_on(world, "development", "ci: bad", {"ewsdash.toml": "[[check]\nname = 1\n"})
    run = start(registered, sha)
    assert run.status == "failed"
    assert "ewsdash.toml, line 1" in run.manifest_error


def test_a_missing_manifest_records_no_validation_declared(registered, world):
    run = start(registered, "development")
    assert run.status == "error"
    assert run.summary.startswith("no validation declared (ewsdash.toml not found at ")
    assert run.is_finished


def test_an_unknown_ref_is_refused(registered):
    with pytest.raises(ActionRefused, match="neither a branch"):
        start(registered, "no-such-branch")


def test_a_passing_command_check_passes_the_run(registered, world, no_enqueue):
    sha = commit_on(world, "development", "ci: declare", {"ewsdash.toml": PASSING})
    run = start(registered, sha)
    check = run.checks.get()
    assert check.status == "queued"
    assert no_enqueue == [check.pk]
    run_queued_inline(run)
    run.refresh_from_db()
    check.refresh_from_db()
    assert (check.status, check.exit_code) == ("passed", 0), check.summary
    assert "testing" in check.log
    assert run.status == "passed"
    assert run.finished_at is not None
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-3:] == [
        "validation.started",
        "validation.check_finished",
        "validation.finished",
    ]


def test_starting_again_returns_the_current_run_and_rerun_makes_a_new_attempt(
    registered, world, no_enqueue
):
    sha = commit_on(world, "development", "ci: declare", {"ewsdash.toml": PASSING})
    run = start(registered, sha)
    assert start(registered, sha).pk == run.pk
    with pytest.raises(ActionRefused, match="cancel it first"):
        runs.validation_run_rerun(run=run, actor="test")
    run_queued_inline(run)
    run.refresh_from_db()
    again = runs.validation_run_rerun(run=run, actor="test")
    assert (again.attempt, again.status) == (2, "queued")
    assert runs.current_run(repository=registered, commit=sha).pk == again.pk
    assert start(registered, sha).pk == again.pk


def test_dependents_wait_and_are_skipped_when_their_dependency_fails(registered, world, no_enqueue):
    manifest = toml(
        """
        [[check]]
        name = "make"
        kind = "command"
        run = "echo hello > {artifacts}/out.txt && exit 3"

        [[check]]
        name = "use"
        kind = "command"
        run = "cat {artifacts:make}/out.txt"

        [[check]]
        name = "after-use"
        kind = "command"
        run = "cat {artifacts:use}/nothing"
        """
    )
    sha = commit_on(world, "development", "ci", {"ewsdash.toml": manifest})
    run = start(registered, sha)
    assert dict(run.checks.values_list("name", "status")) == {
        "make": "queued",
        "use": "waiting",
        "after-use": "waiting",
    }
    run_queued_inline(run)
    statuses = dict(run.checks.values_list("name", "status"))
    assert statuses == {"make": "failed", "use": "skipped", "after-use": "skipped"}
    run.refresh_from_db()
    assert run.status == "failed"
    assert "exited with status 3" in run.checks.get(name="make").summary


def test_a_check_reads_the_artifacts_of_the_check_it_depends_on(registered, world, no_enqueue):
    manifest = toml(
        """
        [[check]]
        name = "make"
        kind = "command"
        run = "mkdir -p {artifacts}/sub && echo hello > {artifacts}/sub/out.txt"

        [[check]]
        name = "use"
        kind = "command"
        run = "grep hello {artifacts:make}/sub/out.txt"
        """
    )
    sha = commit_on(world, "development", "ci", {"ewsdash.toml": manifest})
    run = start(registered, sha)
    run_queued_inline(run)
    make = run.checks.get(name="make")
    assert [(a.name, a.artifact.size) for a in make.artifacts.all()] == [("sub/out.txt", 6)]
    use = run.checks.get(name="use")
    assert use.status == "passed", use.summary
    run.refresh_from_db()
    assert run.status == "passed"


def test_cancel_cancels_checks_not_started_and_refuses_a_finished_run(
    registered, world, no_enqueue
):
    sha = commit_on(world, "development", "ci", {"ewsdash.toml": PASSING})
    run = start(registered, sha)
    cancelled = runs.validation_run_cancel(run=run, actor="test")
    assert cancelled.status == "cancelled"
    assert run.checks.get().status == "cancelled"
    with pytest.raises(ActionRefused, match="already finished"):
        runs.validation_run_cancel(run=cancelled, actor="test")
    # A cancelled run is no verdict: starting again makes a new attempt.
    assert start(registered, sha).attempt == 2


def test_the_reaper_requeues_a_running_check_whose_heartbeat_stopped(registered, world, no_enqueue):
    sha = commit_on(world, "development", "ci", {"ewsdash.toml": PASSING})
    run = start(registered, sha)
    check = run.checks.get()
    claim = claims.claim_take(check_id=check.pk, worker="doomed")
    assert claim is not None
    assert claims.claim_take(check_id=check.pk, worker="second") is None
    CheckResult.objects.filter(pk=check.pk).update(heartbeat_at="2000-01-01T00:00:00Z")
    outcome = reaper.validation_reap_stale(heartbeat_timeout=5)
    assert outcome.requeued == [check.pk]
    check.refresh_from_db()
    assert check.status == "queued" and check.claim_token == ""
    # The dead worker's late result is discarded: its claim no longer holds.
    report = claims.CheckReport("passed", "too late")
    assert claims.claim_finish(claim=claim, report=report) is False
    run_queued_inline(run)
    check.refresh_from_db()
    assert (check.status, check.claims) == ("passed", 2)


def test_the_reaper_gives_up_after_max_claims(registered, world, no_enqueue):
    sha = commit_on(world, "development", "ci", {"ewsdash.toml": PASSING})
    run = start(registered, sha)
    check = run.checks.get()
    for _ in range(reaper.MAX_CLAIMS):
        assert claims.claim_take(check_id=check.pk, worker="doomed")
        CheckResult.objects.filter(pk=check.pk).update(heartbeat_at="2000-01-01T00:00:00Z")
        reaper.validation_reap_stale(heartbeat_timeout=5)
    check.refresh_from_db()
    assert check.status == "error"
    assert "stopped responding, 3 times" in check.summary
    run.refresh_from_db()
    assert run.status == "error"


def test_a_run_is_unique_per_commit_and_attempt(registered, world):
    sha = commit_on(world, "development", "ci", {"ewsdash.toml": PASSING})
    from django.db import IntegrityError

    ValidationRun.objects.create(repository=registered, commit=sha, purpose="manual")
    with pytest.raises(IntegrityError):
        ValidationRun.objects.create(repository=registered, commit=sha, purpose="manual")


def test_without_a_manifest_on_production_performance_passes_and_says_so(
    registered, world, no_enqueue
):
    manifest = toml(
        """
        [[check]]
        name = "scores"
        kind = "command"
        run = "printf 'model,target,metric,value\\nm,t,mse,1.0\\n' > {artifacts}/m.csv"

        [[check]]
        name = "performance"
        kind = "performance"
        from = "scores"
        metrics = "{artifacts}/m.csv"
        """
    )
    sha = commit_on(world, "development", "ci", {"ewsdash.toml": manifest})
    run = start(registered, sha, purpose="candidate")
    assert run.reference.status == "error"  # production declares no validation
    run_queued_inline(run)
    performance = run.checks.get(name="performance")
    assert performance.status == "passed", performance.summary
    assert performance.summary.startswith("no production baseline: production ")
    assert "no validation declared" in performance.summary
    assert list(performance.metrics.values_list("metric", "step", "value")) == [("mse", None, 1.0)]


def test_a_worktree_failure_is_retried_then_reported_as_error(
    registered, world, no_enqueue, monkeypatch
):
    from monitoring import execution
    from releases import git

    sha = commit_on(world, "development", "ci", {"ewsdash.toml": PASSING})
    run = start(registered, sha)
    check = run.checks.get()

    def broken(run, scratch):
        raise git.GitError("fatal: cannot lock ref")

    monkeypatch.setattr(execution, "_prepare", broken)
    with pytest.raises(execution.WorktreeUnavailable):
        execution.check_result_run(check_id=check.pk, worker="w", last_try=False)
    check.refresh_from_db()
    assert check.status == "queued"  # given back for the task's retry
    execution.check_result_run(check_id=check.pk, worker="w", last_try=True)
    check.refresh_from_db()
    assert check.status == "error"
    assert check.summary == "could not prepare the worktree: fatal: cannot lock ref"
    assert check.claims == 2


def test_the_roles_can_read_the_new_models(users):
    from django.contrib.auth.models import Group

    viewer = set(Group.objects.get(name="viewer").permissions.values_list("codename", flat=True))
    assert {"view_validationrun", "view_checkresult", "view_artifact", "view_modelmetric"} <= viewer
