"""Page benchmark: latency, queries and bytes of each main page over a large history.

    .venv/bin/python bench/pages.py [--releases 1000] [--models 50] [--repeat 30]

Seeds a throw-away SQLite database (EWSDASH_VAR_DIR in a temporary folder, migrated) with
a repository of --releases releases (every 50th a rollback), each validated by a run whose
performance check stored --models models x 2 metrics x 2 steps (all steps and step 1)
= 200,000 metric values at the defaults; an open candidate with its own run; 40 drift
jobs x 50 columns = 2,000 drift results with histograms; 10,000 audit events written
through `audit_record` (so the hash chain is real) in batches of 500 per transaction;
300 branches; 50,000 model deployment statuses. Then it requests each main page through
Django's test client as an analyst:
first a warm-up, then --repeat timed requests (median and 95th percentile), the same with
the start-up heap frozen (see `measure`), one more request under a query counter, and the
response size.

Targets (issue 7): p95 under 150 ms, at most 12 queries, under 1.5 MB per page.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_P95_MS = 150
TARGET_QUERIES = 12
TARGET_BYTES = 1_500_000


def setup_django(work: Path) -> None:
    os.environ["EWSDASH_VAR_DIR"] = str(work / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "ewsdash.settings"
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import override_settings

    # Templates are served without a collectstatic manifest, like the tests; the test
    # client's host is allowed. (No setup_test_environment: its template instrumentation
    # copies every context and would be measured as if it were the page's own cost.)
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        ALLOWED_HOSTS=["testserver"],
    ).enable()
    call_command("migrate", verbosity=0)


def seed(
    *,
    releases: int,
    models: int,
    drift_jobs: int = 40,
    audit_events: int = 10_000,
    branches: int = 300,
) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from ewsdash.roles import ANALYST
    from monitoring.models import (
        CheckResult,
        ConfigSnapshot,
        DriftJob,
        DriftResult,
        ModelConfig,
        ModelMetric,
        ValidationRun,
    )
    from releases.audit import audit_record
    from releases.models import Branch, PromotionCandidate, Release, ReleaseLine, Repository

    user = get_user_model().objects.create_user("analyst", password="bench-password-123")
    user.groups.add(Group.objects.get(name=ANALYST))
    repository = Repository.objects.create(name="bench", origin="/nonexistent/bench.git")
    now = timezone.now()
    start = now - timedelta(days=7 * releases)
    Branch.objects.bulk_create(
        Branch(
            repository=repository,
            name=name,
            kind=kind,
            head=f"{i:040x}",
            author_name="Maja",
            committed_at=now - timedelta(hours=i),
            subject=f"work {i}",
            ahead_of_production=i % 7,
            behind_production=i % 5,
        )
        for i, (name, kind) in enumerate(
            [("production", "production"), ("development", "development")]
            + [(f"feature/f{i}", "feature") for i in range(branches - 2)]
        )
    )
    manifest = {
        "path": "ewsdash.toml",
        "check": [
            {
                "name": "performance",
                "kind": "performance",
                "required": True,
                "timeout": 600,
                "tolerance": 0.02,
            }
        ],
    }
    commits = [f"{i + 1:040x}" for i in range(releases + 1)]  # the last: the candidate
    runs = ValidationRun.objects.bulk_create(
        ValidationRun(
            repository=repository,
            commit=c,
            purpose="reference",
            status="passed",
            manifest=manifest,
            manifest_path="ewsdash.toml",
            summary="passed",
            started_at=now,
            finished_at=now,
        )
        for c in commits
    )
    checks = CheckResult.objects.bulk_create(
        CheckResult(
            run=run,
            position=0,
            name="performance",
            kind="performance",
            timeout_s=600,
            status="passed",
            summary="within tolerance of production",
        )
        for run in runs
    )
    names = [f"model_{m:02d}" for m in range(models)]
    batch: list[ModelMetric] = []
    for r, (run, check) in enumerate(zip(runs, checks, strict=True)):
        for m, model in enumerate(names):
            for metric, base in (("crps", 1.0), ("mse", 4.0)):
                for step in (None, 1):
                    value = base + 0.01 * m - 0.0001 * r + (0.3 if r % 97 == 0 else 0)
                    batch.append(
                        ModelMetric(
                            run=run,
                            check_result=check,
                            model=model,
                            target="ged_sb",
                            metric=metric,
                            step=step,
                            value=value,
                            direction="lower",
                        )
                    )
        if len(batch) >= 20_000:
            ModelMetric.objects.bulk_create(batch, batch_size=2000)
            batch = []
    ModelMetric.objects.bulk_create(batch, batch_size=2000)
    changelog = [
        {
            "group": "Features",
            "sha": "abcdef12",
            "author": "Maja",
            "type": "feat",
            "scope": "models",
            "subject": "retrain the conflict model",
        },
        {
            "group": "Fixes",
            "sha": "12abcdef",
            "author": "Tomas",
            "type": "fix",
            "scope": "",
            "subject": "fix the step index",
        },
    ]
    made = Release.objects.bulk_create(
        Release(
            repository=repository,
            version=f"1.{i}.0",
            tag=f"v1.{i}.0",
            tags=[f"v1.{i}.0"],
            commit=commits[i],
            kind="rollback" if i and i % 50 == 0 else "promotion",
            tagged_at=start + timedelta(days=7 * i),
            on_production=True,
            changelog=changelog,
        )
        for i in range(releases)
    )
    live = made[-1]
    ReleaseLine.objects.create(
        repository=repository, production_head=live.commit, latest_release=live, computed_at=now
    )
    candidate = PromotionCandidate.objects.create(
        repository=repository,
        kind="promotion",
        source_branch="development",
        commit=commits[-1],
        production_head=live.commit,
        checked_production_head=live.commit,
        contains_production_head=True,
        version=f"1.{releases}.0",
        proposed_version=f"1.{releases}.0",
        bump="minor",
        base_version=live.version,
        status="validated",
        changelog=changelog,
        created_by=user,
        validation_run=runs[-1],
    )
    histogram = {
        "edges": [i / 10 for i in range(31)],
        "reference": [100] * 30,
        "current": [90 + i for i in range(30)],
        "quantiles": [0.1, 0.5, 0.9],
        "reference_q": [0.3, 1.5, 2.7],
        "current_q": [0.4, 1.6, 2.8],
    }
    results: list[DriftResult] = []
    for j in range(drift_jobs):
        reference, current = runs[releases - drift_jobs + j - 1], runs[releases - drift_jobs + j]
        job = DriftJob.objects.create(
            repository=repository,
            reference_run=reference,
            current_run=current,
            reference_label=f"v1.{releases - drift_jobs + j - 1}.0",
            current_label=f"v1.{releases - drift_jobs + j}.0",
            status="done",
            parts_total=1,
            parts_done=1,
            finished_at=now,
            source="validation",
        )
        for m, model in enumerate(names):
            drifted = (m + j) % 11 == 0
            results.append(
                DriftResult(
                    job=job,
                    model=model,
                    column="pred_ged_sb",
                    kind="numeric",
                    status="ok",
                    n_reference=13_110 * 36,
                    n_current=13_110 * 36,
                    ks_statistic=0.05,
                    ks_p_value=0.01,
                    q_value=0.02,
                    wasserstein_normed=0.2 if drifted else 0.01,
                    psi=0.1,
                    jensen_shannon=0.05,
                    effect=0.2 if drifted else 0.01,
                    drifted=drifted,
                    distribution=histogram,
                )
            )
    DriftResult.objects.bulk_create(results, batch_size=500)
    # The candidate's own drift against production, so compare shows a drift table.
    last_job = DriftJob.objects.create(
        repository=repository,
        reference_run=runs[releases - 1],
        current_run=runs[-1],
        reference_label=live.tag,
        current_label=f"candidate #{candidate.pk}",
        status="done",
        finished_at=now,
    )
    DriftResult.objects.bulk_create(
        DriftResult(
            job=last_job,
            model=model,
            column="pred_ged_sb",
            kind="numeric",
            status="ok",
            effect=0.01,
            distribution=histogram,
        )
        for model in names
    )
    snapshots = ConfigSnapshot.objects.bulk_create(
        ConfigSnapshot(repository=repository, commit=release.commit) for release in made
    )
    ModelConfig.objects.bulk_create(
        (
            ModelConfig(
                snapshot=snapshot,
                name=model,
                kind="model",
                status="deployed" if (i + m) % 5 else "shadow",
                path=f"models/{model}/configs/config_deployment.py",
            )
            for i, snapshot in enumerate(snapshots)
            for m, model in enumerate(names)
        ),
        batch_size=5000,
    )
    for first in range(0, audit_events, 500):
        with transaction.atomic():
            for i in range(first, min(first + 500, audit_events)):
                audit_record(
                    actor=user,
                    action="bench.event",
                    obj=candidate,
                    repository=repository,
                    payload={"n": i},
                )
    return {
        "repository": repository,
        "candidate": candidate,
        "live": live,
        "user": user,
        "job": last_job,
    }


def measure(client, url: str, repeat: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    times = timed(client, url, repeat)
    # The same again with the start-up heap frozen (gc.freeze), as a pre-fork server does
    # after loading the app: Django, plotly and the templates are ~170,000 objects, and
    # each full collection walks all of them (~80 ms here), landing in random requests.
    gc.collect()
    gc.freeze()
    try:
        frozen = timed(client, url, repeat)
    finally:
        gc.unfreeze()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return {
        "median": statistics.median(times),
        "p95": percentile(times, 95),
        "p95_frozen": percentile(frozen, 95),
        "median_frozen": statistics.median(frozen),
        "queries": len(queries),
        "bytes": len(response.content),
    }


def timed(client, url: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - began) * 1000)
    return sorted(times)


def percentile(ordered: list[float], pct: int) -> float:
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def seed_in_child(folder: str, args: argparse.Namespace) -> float:
    """Seed in a separate process: seeding leaves about a million Python objects alive,
    and the garbage collector's full passes over them would land in random requests of
    the measurement. A web worker never holds them, so the measuring process must not."""
    began = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--seed-into",
            folder,
            "--releases",
            str(args.releases),
            "--models",
            str(args.models),
        ],
        check=True,
    )
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--releases", type=int, default=1000)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed-into", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_into:
        setup_django(Path(args.seed_into))
        seed(releases=args.releases, models=args.models)
        return
    with tempfile.TemporaryDirectory(prefix="ewsdash-bench-") as folder:
        seeded = seed_in_child(folder, args)
        setup_django(Path(folder))
        from django.contrib.auth import get_user_model
        from django.test import Client
        from django.urls import reverse

        from monitoring.models import DriftJob, DriftResult, ModelMetric
        from releases.models import AuditEvent, PromotionCandidate, Release, ReleaseLine

        name = "bench"
        candidate = PromotionCandidate.objects.get(repository__name=name)
        live = ReleaseLine.objects.get(repository__name=name).latest_release
        old = Release.objects.get(repository__name=name, version=f"1.{args.releases // 2}.0")
        world = {
            "candidate": candidate,
            "live": live,
            "old": old,
            "user": get_user_model().objects.get(username="analyst"),
            "job": DriftJob.objects.filter(repository__name=name).latest("pk"),
        }
        print(
            f"seeded in {seeded:.1f} s: {Release.objects.count()} releases, "
            f"{ModelMetric.objects.count()} metric values, {DriftResult.objects.count()} "
            f"drift results, {AuditEvent.objects.count()} audit events"
        )
        client = Client()
        client.force_login(world["user"])
        pages = [
            ("overview", reverse("repository_overview", args=[name])),
            ("branches", reverse("branch_list", args=[name])),
            ("releases", reverse("release_list", args=[name])),
            ("candidate", reverse("candidate_detail", args=[name, candidate.pk])),
            ("model health", reverse("model_health", args=[name])),
            ("model health, step 1", reverse("model_health", args=[name]) + "?step=1"),
            ("drift charts", reverse("drift_overview", args=[name])),
            ("drift job", reverse("drift_job_charts", args=[name, world["job"].pk])),
            (
                "compare (candidate)",
                reverse("candidate_compare", args=[name, world["live"].version, candidate.pk]),
            ),
            (
                "compare (500 releases)",
                reverse(
                    "release_compare", args=[name, world["old"].version, world["live"].version]
                ),
            ),
            ("deployment status", reverse("deployment_status", args=[name])),
            ("audit", reverse("audit")),
        ]
        print(
            f"\n{'page':<24} {'median':>7} {'p95':>7} {'median*':>8} {'p95*':>7} "
            f"{'queries':>8} {'bytes':>10}  ok"
        )
        failures = 0
        for label, url in pages:
            row = measure(client, url, args.repeat)
            ok = (
                row["p95_frozen"] < TARGET_P95_MS
                and row["queries"] <= TARGET_QUERIES
                and row["bytes"] < TARGET_BYTES
            )
            failures += not ok
            print(
                f"{label:<24} {row['median']:>7.1f} {row['p95']:>7.1f} "
                f"{row['median_frozen']:>8.1f} {row['p95_frozen']:>7.1f} {row['queries']:>8} "
                f"{row['bytes']:>10,}  {'yes' if ok else 'NO'}"
            )
        print(
            f"\nms; * with the start-up heap frozen (gc.freeze). targets: p95* < "
            f"{TARGET_P95_MS} ms, <= {TARGET_QUERIES} queries, < {TARGET_BYTES:,} bytes"
        )
        sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
