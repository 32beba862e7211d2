"""Realized-skill scoring benchmark: one release's forecasts against outcomes.

    .venv/bin/python bench/skill.py [--quick] [--repeat 3] [--sample 2000]

13,110 cells x 36 steps x 256 draws (synthetic zero-inflated counts, float32 as the
forecast files hold them) against one outcome per cell: CRPS, twCRPS, Brier, MSE/MSLE,
coverage of nine central intervals and the randomized PIT, then the ledger's per-month
means and calibration (monitoring.skill), beside scoringrules called naively cell by cell
(crps_ensemble, twcrps_ensemble, numpy's quantiles and the PIT per cell) on a sample of
cells, its time scaled linearly to every cell, in the same run.

Each engine runs in a fresh subprocess, so its peak RSS (inputs included) is its own. The
issue asks for at most 5 s and 2 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

UNITS, STEPS, DRAWS = 13_110, 36, 256
THRESHOLD = 25.0


ACTIVE = 0.35  # share of cells with any fatality forecast (PRIO-GRID: far fewer)


def synthetic(
    cells: int, members: int, seed: int = 0, active_share: float = ACTIVE
) -> tuple[np.ndarray, np.ndarray]:
    """Zero-inflated counts, written chunk by chunk so generating costs no extra GB."""
    rng = np.random.default_rng(seed)
    draws = np.empty((cells, members), dtype=np.float32)
    for start in range(0, cells, 20_000):
        stop = min(cells, start + 20_000)
        n = stop - start
        active = rng.random((n, 1)) < active_share
        level = rng.gamma(0.6, 20.0, (n, 1))
        counts = rng.poisson(level, (n, members))
        draws[start:stop] = np.where(active & (rng.random((n, members)) < 0.7), counts, 0)
    observed = np.where(rng.random(cells) < 0.25, rng.poisson(10, cells), 0).astype(np.float64)
    return draws, observed


def run_ours(cells: int, repeat: int, active_share: float) -> dict:
    from monitoring.skill.scores import score_cells
    from monitoring.skill.summary import month_rows

    draws, observed = synthetic(cells, DRAWS, active_share=active_share)
    months = np.repeat(np.arange(STEPS), cells // STEPS + 1)[:cells]
    times, scoring, cpu = [], [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        scores = score_cells(draws, observed, threshold=THRESHOLD, seed=1)
        scored = time.perf_counter()
        rows = month_rows(scores, observed, months)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        scoring.append(scored - start)
    assert len(rows) == STEPS
    return {
        "seconds": statistics.median(times),
        "scoring_seconds": statistics.median(scoring),
        "cpu_seconds": statistics.median(cpu),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "crps_mean": float(scores.crps.mean()),
    }


def run_naive(cells: int, sample: int, active_share: float) -> dict:
    import scoringrules as sr

    draws, observed = synthetic(cells, DRAWS, active_share=active_share)
    picked = np.random.default_rng(2).choice(cells, size=min(sample, cells), replace=False)
    levels = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    rng = np.random.default_rng(1)
    crps = []
    start = time.perf_counter()
    for i in picked:
        cell, y = draws[i].astype(np.float64), observed[i]
        crps.append(sr.crps_ensemble(y, cell))
        sr.twcrps_ensemble(y, cell, a=THRESHOLD)
        sr.brier_score(float(y > 0), (cell > 0).mean())
        for level in levels:
            low, high = np.quantile(cell, [(1 - level) / 2, (1 + level) / 2])
            _ = low <= y <= high
        below, at = (cell < y).mean(), (cell <= y).mean()
        _ = below + rng.random() * (at - below)
    elapsed = time.perf_counter() - start
    return {
        "seconds": elapsed * cells / len(picked),
        "sample": len(picked),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "crps_sample_mean": float(np.mean(crps)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 units instead of 13,110")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sample", type=int, default=2000, help="cells the naive loop scores")
    parser.add_argument(
        "--active", type=float, default=ACTIVE, help="share of cells forecasting any fatality"
    )
    parser.add_argument("--run", choices=("ours", "naive"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    cells = (1_000 if args.quick else UNITS) * STEPS
    if args.run == "ours":
        print(json.dumps(run_ours(cells, args.repeat, args.active)))
        return
    if args.run == "naive":
        print(json.dumps(run_naive(cells, args.sample, args.active)))
        return
    found = {}
    for engine in ("ours", "naive"):
        cmd = [sys.executable, __file__, "--run", engine, "--repeat", str(args.repeat)]
        cmd += ["--sample", str(args.sample)] + (["--quick"] if args.quick else [])
        found[engine] = json.loads(
            subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        )
    ours, naive = found["ours"], found["naive"]
    print(
        f"{cells:,} cells ({cells // STEPS:,} units x {STEPS} steps) x {DRAWS} draws, "
        f"{args.active:.0%} of cells forecasting any fatality; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'engine':<44} {'seconds':>8} {'peak RSS MB':>12} {'vs naive':>9}")
    print(
        f"{'ewsdash (scoringrules on chunks, 2 threads)':<44} {ours['seconds']:>8.2f} "
        f"{ours['peak_mb']:>12.0f} {ours['seconds'] / naive['seconds']:>9.4f}"
    )
    print(f"{'  of which the scores themselves':<44} {ours['scoring_seconds']:>8.2f}")
    print(f"{'  CPU time (both threads)':<44} {ours['cpu_seconds']:>8.2f}")
    print(
        f"{'scoringrules per cell (scaled from ' + str(naive['sample']) + ')':<44} "
        f"{naive['seconds']:>8.1f} {naive['peak_mb']:>12.0f} {1.0:>9.4f}"
    )
    print(f"median of {args.repeat}; targets: at most 5 s and 2,048 MB")


if __name__ == "__main__":
    main()
