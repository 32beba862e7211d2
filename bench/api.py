"""API benchmark: latency and queries of every list endpoint on the page benchmark's history.

    .venv/bin/python bench/api.py [--releases 1000] [--models 50] [--repeat 50]

Seeds the same throw-away database as bench/pages.py (1,000 releases, 300 branches,
10,000 audit events, 40 drift jobs, ...), makes a read token for the analyst, and requests
each list endpoint (first page, 50 results; for releases and audit events also a page deep
in the list) and a few details through Django's test client with the token: a warm-up,
then --repeat timed requests (median, 95th percentile), the same with the start-up heap
frozen, one more under a query counter.

Targets (issue 15): p95 at most 100 ms, at most 12 queries.

Also the CPU time each request costs the process (time.process_time: SQLite runs in the
process, so this is the request's whole cost), which a machine shared with other work
does not inflate the way it inflates wall-clock latency: the column to read when the
load average is above the core count.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pages  # noqa: E402 (bench/pages.py: the dataset and the measuring loop)

TARGET_P95_MS = 100
TARGET_QUERIES = 12


def cpu_p95(client, url: str, repeat: int) -> float:
    """The 95th percentile of the CPU milliseconds one request costs (heap frozen)."""
    gc.collect()
    gc.freeze()
    try:
        costs = []
        for _ in range(repeat):
            began = time.process_time()
            client.get(url)
            costs.append((time.process_time() - began) * 1000)
    finally:
        gc.unfreeze()
    return pages.percentile(sorted(costs), 95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--releases", type=int, default=1000)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument(
        "--data", help="keep the seeded database in this folder and reuse it on the next run"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ewsdash-bench-api-") as scratch:
        folder = args.data or scratch
        seeded = 0.0
        if not (Path(folder) / "var" / "ewsdash.sqlite3").exists():
            Path(folder).mkdir(parents=True, exist_ok=True)
            seeded = pages.seed_in_child(folder, args)
        pages.setup_django(Path(folder))
        from django.contrib.auth import get_user_model
        from django.test import Client

        from api.tokens import token_create
        from monitoring.models import DriftJob, ValidationRun
        from releases.models import AuditEvent, PromotionCandidate, Release

        name = "bench"
        token = token_create(
            user=get_user_model().objects.get(username="analyst"),
            name=f"bench-{time.time_ns()}",
            scope="read",
        )
        client = Client(headers={"Authorization": f"Bearer {token}"})
        base = f"/api/v1/repositories/{name}"
        candidate = PromotionCandidate.objects.get(repository__name=name)
        run = ValidationRun.objects.filter(repository__name=name).latest("pk")
        job = DriftJob.objects.filter(repository__name=name).latest("pk")
        print(
            f"seeded in {seeded:.1f} s: {Release.objects.count()} releases, "
            f"{AuditEvent.objects.count()} audit events, {ValidationRun.objects.count()} runs"
        )
        endpoints = [
            ("repositories", "/api/v1/repositories"),
            ("branches", f"{base}/branches"),
            ("releases", f"{base}/releases"),
            ("releases, offset 900", f"{base}/releases?offset=900"),
            ("candidates", f"{base}/candidates"),
            ("runs", f"{base}/runs"),
            ("drift jobs", f"{base}/drift-jobs"),
            ("audit events", "/api/v1/audit-events"),
            ("audit events, offset 9000", "/api/v1/audit-events?offset=9000"),
            ("audit events, by action", "/api/v1/audit-events?action=bench"),
            ("candidate (gates)", f"{base}/candidates/{candidate.pk}"),
            ("run (checks)", f"{base}/runs/{run.pk}"),
            ("drift job (results)", f"{base}/drift-jobs/{job.pk}"),
        ]
        print(f"load average before measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(
            f"\n{'endpoint':<28} {'median':>7} {'p95':>7} {'median*':>8} {'p95*':>7} "
            f"{'cpu p95':>8} {'queries':>8} {'bytes':>10}  ok"
        )
        failures = 0
        for label, url in endpoints:
            row = pages.measure(client, url, args.repeat)
            cpu = cpu_p95(client, url, args.repeat)
            ok = row["p95_frozen"] <= TARGET_P95_MS and row["queries"] <= TARGET_QUERIES
            failures += not ok
            print(
                f"{label:<28} {row['median']:>7.1f} {row['p95']:>7.1f} "
                f"{row['median_frozen']:>8.1f} {row['p95_frozen']:>7.1f} {cpu:>8.1f} "
                f"{row['queries']:>8} "
                f"{row['bytes']:>10,}  {'yes' if ok else 'NO'}"
            )
        print(
            f"\nms; * with the start-up heap frozen (gc.freeze), as the web server runs; "
            f"cpu: the process's CPU time per request. "
            f"targets: p95* <= {TARGET_P95_MS} ms, <= {TARGET_QUERIES} queries"
        )
        print(f"load average after: {os.getloadavg()[0]:.1f}")
        sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
