"""The sandbox's cost: a `true` check, and the demo's whole validation, with and without it.

    .venv/bin/python bench/sandbox.py [--rounds 10] [--demo-rounds 3]

1. `true`: the command runner (`run_command`) as the worker calls it, in a claim's scratch
   folder, with the bwrap wrapper and without, alternating, --rounds times each; medians.
   Target: at most 0.3 s more in the sandbox.
2. The demo: in a throw-away var folder (SQLite, migrated), the demo origin's development
   candidate and its production reference validated inline (what a worker does, checks
   one after another), with EWSDASH_SANDBOX=bwrap and =none alternating, --demo-rounds
   times each (a re-run each time, so every round does the same work). Target: at most
   1.3x the unsandboxed time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def bench_true(rounds: int, work: Path) -> tuple[float, float]:
    from monitoring.validation.process import run_command, safe_environment
    from monitoring.validation.sandbox import SandboxLayout, SandboxPolicy, bwrap_argv

    scratch = work / "scratch"
    for name in ("tree", "home", "tmp", "artifacts/true"):
        (scratch / name).mkdir(parents=True, exist_ok=True)
    layout = SandboxLayout(scratch=scratch, own="true")
    wrapper = bwrap_argv(SandboxPolicy(), layout, cwd=layout.inside(scratch / "tree"))
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(rounds):
        for sandboxed in (True, False):
            started = time.monotonic()
            result = run_command(
                "true",
                cwd=scratch / "tree",
                timeout=60,
                log_path=scratch / "log.txt",
                env=safe_environment(),
                wrapper=wrapper if sandboxed else (),
            )
            times[sandboxed].append(time.monotonic() - started)
            assert result.exit_code == 0, result.log_text
    return statistics.median(times[True]), statistics.median(times[False])


def bench_demo(rounds: int, work: Path) -> tuple[float, float]:
    os.environ["EWSDASH_VAR_DIR"] = str(work / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "ewsdash.settings"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from ewsdash import queue
    from monitoring import execution, runs
    from monitoring.models import CheckResult, CheckStatus
    from releases import services
    from releases.demo_pipeline import build_demo_origin

    call_command("migrate", verbosity=0)
    queue.enqueue_on_commit = lambda *args, **kwargs: None  # checks run inline, below
    origin = build_demo_origin(work / "origins")
    repository = services.repository_create(actor="bench", name="views", origin=str(origin.path))

    def validate_once() -> float:
        started = time.monotonic()
        run = runs.validation_run_start(
            repository=repository, commit=origin.development, actor="bench", purpose="manual"
        )
        if run.is_finished:  # a later round: the same work again, as a re-run
            if run.reference is not None:
                runs.validation_run_rerun(run=run.reference, actor="bench")
            run = runs.validation_run_rerun(run=run, actor="bench")
        ids = {run.pk, run.reference_id}
        for _ in range(20):
            queued = list(
                CheckResult.objects.filter(run_id__in=ids, status=CheckStatus.QUEUED)
                .order_by("run_id", "position")
                .values_list("pk", flat=True)
            )
            if not queued:
                break
            for check_id in queued:
                execution.check_result_run(check_id=check_id, worker="bench", last_try=True)
            run.refresh_from_db()
            ids |= {run.reference_id}
        run.refresh_from_db()
        assert run.is_finished, run.summary
        sandboxes = set(CheckResult.objects.filter(run=run).values_list("status", flat=True))
        assert CheckStatus.ERROR not in sandboxes, run.summary
        return time.monotonic() - started

    times: dict[str, list[float]] = {"bwrap": [], "none": []}
    settings.EWSDASH_SANDBOX = "none"
    validate_once()  # warm-up: the clone, numpy's first import in the page cache
    for _ in range(rounds):
        for mode in ("bwrap", "none"):
            settings.EWSDASH_SANDBOX = mode
            times[mode].append(validate_once())
    return statistics.median(times["bwrap"]), statistics.median(times["none"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--demo-rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ewsdash-bench-sandbox-") as folder:
        work = Path(folder)
        boxed, bare = bench_true(args.rounds, work)
        print(
            f"`true` check, median of {args.rounds}: {boxed:.3f} s in the sandbox, "
            f"{bare:.3f} s without: +{boxed - bare:.3f} s (target at most +0.3 s)"
        )
        demo_boxed, demo_bare = bench_demo(args.demo_rounds, work)
        print(
            f"demo validation (candidate + production reference), median of "
            f"{args.demo_rounds}: {demo_boxed:.1f} s in the sandbox, {demo_bare:.1f} s without: "
            f"{demo_boxed / demo_bare:.2f}x (target at most 1.3x)"
        )
        ok = boxed - bare <= 0.3 and demo_boxed / demo_bare <= 1.3
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
