"""What a release attestation adds to a promotion: planning and pushing, with and without.

    .venv/bin/python bench/attestation.py [--rounds 10]

In a throw-away var folder (SQLite, migrated): the demo origin registered, its development
candidate validated inline (the demo's real checks and artifacts, EWSDASH_SANDBOX=none:
the sandbox is not what is measured). Then, alternating, --rounds times each:

1. the worker's plan (`promotion_plan` in the fetched cache clone: merge, tag, and with the
   attestation its statements, ssh-keygen signatures and git objects), with the attestation
   and with `attestation_plan` switched off;
2. the atomic push of that plan to a fresh copy of the origin (branch + tag, + the
   attestation ref).

Prints the medians and the difference: the time an attestation adds to a promotion.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup(work: Path):  # noqa: ANN201 - Django models, imported after setup
    os.environ["EWSDASH_VAR_DIR"] = str(work / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "ewsdash.settings"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from ewsdash import queue
    from monitoring import execution
    from monitoring.models import CheckResult, CheckStatus
    from releases import candidates, operation_runner, operations, services
    from releases.demo_pipeline import build_demo_origin

    call_command("migrate", verbosity=0)
    settings.EWSDASH_SANDBOX = "none"
    queue.enqueue_on_commit = lambda *args, **kwargs: None  # checks run inline, below
    origin = build_demo_origin(work / "origins")
    repository = services.repository_create(actor="bench", name="views", origin=str(origin.path))
    admin = get_user_model().objects.create_superuser("bench", "bench@example.org", "x")
    # The demo's development lacks production's hotfix: merge it in first, as people do.
    merge = operations.production_merge_into_development(repository=repository, actor=admin)
    operation_runner.operation_run(operation_id=merge.pk)
    candidate = candidates.candidate_create(repository=repository, actor=admin)
    run = candidate.validation_run
    for _ in range(20):
        queued = list(
            CheckResult.objects.filter(run__repository=repository, status=CheckStatus.QUEUED)
            .order_by("run_id", "position")
            .values_list("pk", flat=True)
        )
        if not queued:
            break
        for check_id in queued:
            execution.check_result_run(check_id=check_id, worker="bench", last_try=True)
    candidate.refresh_from_db()
    candidate.promoted_by = admin
    run.refresh_from_db()
    return origin.path, candidate, run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ewsdash-bench-attestation-") as folder:
        work = Path(folder)
        origin, candidate, run = setup(work)
        from monitoring.models import CheckArtifact
        from releases import attestations, promotion
        from releases.clones import clone_session
        from releases.models import Operation, OperationKind

        operation = Operation(
            repository=candidate.repository, candidate=candidate, kind=OperationKind.PROMOTE
        )
        real_plan = attestations.attestation_plan
        files = CheckArtifact.objects.filter(check_result__run=run).count()
        times: dict[bool, dict[str, list[float]]] = {
            flag: {"plan": [], "push": []} for flag in (True, False)
        }
        size = 0
        with clone_session(candidate.repository) as repo:
            repo.fetch()
            for round_ in range(args.rounds + 1):  # round 0 warms up
                for attested in (True, False):
                    attestations.attestation_plan = (  # type: ignore[assignment]
                        real_plan if attested else (lambda *a, **k: ({}, {}))
                    )
                    started = time.monotonic()
                    plan = promotion.promotion_plan(operation, repo)
                    planned = time.monotonic() - started
                    if attested:
                        size = len(plan.result["attestation"]["bundle"])
                    target = work / f"push-{round_}-{attested}.git"
                    shutil.copytree(origin, target)
                    specs = [f"{oid}:{ref}" for ref, oid in plan.updates.items()]
                    started = time.monotonic()
                    subprocess.run(
                        ["git", "--git-dir", str(repo.path), "push", "-q", "--atomic",
                         str(target), *specs],
                        check=True,
                    )  # fmt: skip
                    pushed = time.monotonic() - started
                    shutil.rmtree(target)
                    if round_:
                        times[attested]["plan"].append(planned)
                        times[attested]["push"].append(pushed)
        attestations.attestation_plan = real_plan  # type: ignore[assignment]
        median = {
            flag: {step: statistics.median(values) for step, values in steps.items()}
            for flag, steps in times.items()
        }
        with_, without = median[True], median[False]
        total_with = with_["plan"] + with_["push"]
        total_without = without["plan"] + without["push"]
        print(
            f"demo candidate: run #{run.pk} ({run.status}), {run.checks.count()} checks, "
            f"{files} artifacts; bundle {size} bytes"
        )
        print(
            f"plan, median of {args.rounds}: {with_['plan']:.3f} s with the attestation, "
            f"{without['plan']:.3f} s without"
        )
        print(
            f"push, median of {args.rounds}: {with_['push']:.3f} s with the attestation ref, "
            f"{without['push']:.3f} s without"
        )
        print(
            f"plan + push: {total_with:.3f} s vs {total_without:.3f} s: "
            f"+{total_with - total_without:.3f} s ({total_with / total_without:.2f}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
