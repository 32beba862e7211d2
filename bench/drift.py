"""Drift engine benchmark: ewsdash vs scipy on the same data, in the same run.

    .venv/bin/python bench/drift.py [--quick] [--command-only]

The "command" case writes the columns to two parquet files and times the whole
``manage.py drift compare REF CUR --json`` process (interpreter, Django, reading, statistics,
output) against scipy's compute-only time for the same statistics on the same columns already
in memory (ks_2samp + wasserstein_distance per column; scipy has no PSI/JS, so those are not
charged to it). The two alternate run by run so that the shared machine's load hits both, and
the ratio of their medians is printed (issue 13 item 8 asks for at most 0.15).

Every (case, engine) runs in a fresh subprocess so that its peak RSS is its own; inside it the
engine runs ``--repeat`` times and the median is reported. Peak MB is the process's max RSS
(inputs included) and, separately, tracemalloc's peak of what the engine itself allocated
(numpy reports its buffers to tracemalloc). scipy rows marked "scaled" ran on a slice of the
cells and were scaled linearly to all cells.
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
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ewsdash.cpu import prefer_avx2_sort  # noqa: E402

# The same numpy dispatch as ``manage.py drift compare`` uses, for scipy too (set before numpy
# is imported; inherited by the --run subprocesses).
prefer_avx2_sort()

import numpy as np  # noqa: E402

from monitoring.drift import DriftConfig, compare_columns, compare_draws, profile_numeric  # noqa: E402
from monitoring.drift.config import usable_cpus  # noqa: E402

FULL = {
    "rows": 1_000_000,
    "columns": 20,
    "units": 13_110,
    "steps": 36,
    "draws": 256,
    "repeat": 3,
    "scipy_cells": 2_000,
    "w1_cells": 300,
}
QUICK = {
    "rows": 100_000,
    "columns": 20,
    "units": 1_311,
    "steps": 36,
    "draws": 256,
    "repeat": 1,
    "scipy_cells": 500,
    "w1_cells": 100,
}


def make_columns(rows: int, columns: int, seed: int, current: bool) -> dict[str, np.ndarray]:
    """Half zero-inflated heavy-tailed (log1p of lognormal fatalities), half normal; the
    current sample shifts half of each kind."""
    rng = np.random.default_rng(seed + (1 if current else 0))
    out = {}
    for i in range(columns):
        shifted = current and i % 4 < 2
        if i % 2 == 0:
            zero_p = 0.55 if shifted else 0.6
            x = np.log1p(rng.lognormal(1.0 + (0.3 if shifted else 0.0), 1.5, rows))
            x[rng.random(rows) < zero_p] = 0.0
        else:
            x = rng.normal(0.2 if shifted else 0.0, 1.0, rows)
        out[f"c{i:02d}"] = x
    return out


def make_draws(units: int, steps: int, draws: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.empty((units, steps, draws), dtype=np.float32)
    for u in range(0, units, 1000):
        n = min(1000, units - u)
        lam = rng.gamma(0.5, 2.0, size=(n, steps, 1))
        block = rng.poisson(lam * (1.1 if seed % 2 else 1.0), size=(n, steps, draws))
        out[u : u + n] = np.log1p(block)
    return out


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median wall time of ``repeat`` untraced runs, then one more run under tracemalloc
    (tracing slows allocation, so it is kept out of the timings)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20


def threads(tasks: int) -> str:
    n = DriftConfig().workers(tasks)
    return f"{n} thread{'s' * (n > 1)}"


def run_case(case: str, engine: str, size: dict[str, Any]) -> dict[str, Any]:
    from scipy import stats

    repeat = size["repeat"]
    note = ""
    if case == "columns":
        ref = make_columns(size["rows"], size["columns"], 10, False)
        cur = make_columns(size["rows"], size["columns"], 10, True)
        if engine == "ewsdash cold":
            secs, traced = timed(lambda: compare_columns(ref, cur), repeat)
            note = f"profile + compare, {threads(size['columns'])}"
        elif engine == "ewsdash warm":
            config = DriftConfig()
            profiles = {k: profile_numeric(v, config) for k, v in ref.items()}
            del ref
            secs, traced = timed(lambda: compare_columns(profiles, cur, config), repeat)
            note = f"reference profile reused, {threads(size['columns'])}"
        else:

            def scipy_all() -> None:
                for k in ref:
                    stats.ks_2samp(ref[k], cur[k])
                    stats.wasserstein_distance(ref[k], cur[k])

            secs, traced = timed(scipy_all, repeat)
            note = "ks_2samp + wasserstein_distance per column (no PSI/JS)"
    else:
        shape = (size["units"], size["steps"], size["draws"])
        a = make_draws(*shape, seed=20)
        b = make_draws(*shape, seed=21)
        cells = size["units"] * size["steps"]
        if engine == "ewsdash":
            secs, traced = timed(lambda: compare_draws(a, b), repeat)
            chunks = -(-cells // DriftConfig().cell_chunk)
            note = f"KS + W1 + mean/interval change, {threads(chunks)}"
        elif engine == "scipy ks_2samp(axis=1)":
            k = size["scipy_cells"]
            a2 = a.reshape(cells, -1)[:k]
            b2 = b.reshape(cells, -1)[:k]
            secs, traced = timed(lambda: stats.ks_2samp(a2, b2, axis=1), repeat)
            secs *= cells / k
            note = f"scaled from {k} cells"
        else:
            k = size["w1_cells"]
            a2 = a.reshape(cells, -1)[:k]
            b2 = b.reshape(cells, -1)[:k]

            def loop() -> None:
                for i in range(k):
                    stats.wasserstein_distance(a2[i], b2[i])

            secs, traced = timed(loop, repeat)
            secs *= cells / k
            note = f"scaled from {k} cells"
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": secs, "traced_mb": traced, "rss_mb": rss, "note": note}


def parity_check(size: dict[str, Any]) -> str:
    """ewsdash vs scipy on the benchmark's columns (a slice of rows) and draw cells."""
    from scipy import stats

    n = min(size["rows"], 20_000)
    ref = {k: v[:n] for k, v in make_columns(size["rows"], 4, 10, False).items()}
    cur = {k: v[:n] for k, v in make_columns(size["rows"], 4, 10, True).items()}
    report = compare_columns(ref, cur)
    worst = 0.0
    for k in ref:
        t = report["columns"][k]["tests"]
        ks = stats.ks_2samp(ref[k], cur[k])
        w1 = stats.wasserstein_distance(ref[k], cur[k]) / max(np.std(ref[k]), 1e-3)
        worst = max(
            worst,
            abs(t["ks"]["statistic"] - ks.statistic),
            abs(t["ks"]["p_value"] - ks.pvalue),
            abs(t["wasserstein_normed"]["value"] - w1) / max(w1, 1.0),
        )
    a = make_draws(20, 36, 256, 20)
    b = make_draws(20, 36, 256, 21)
    r = compare_draws(a, b)
    for u in range(20):
        for s in range(36):
            ks = stats.ks_2samp(a[u, s], b[u, s])
            worst = max(
                worst, abs(r.ks_statistic[u, s] - ks.statistic), abs(r.ks_p_value[u, s] - ks.pvalue)
            )
    return f"parity vs scipy on bench data: max abs difference {worst:.2e}"


ROOT = Path(__file__).resolve().parents[1]


def command_case(size: dict[str, Any]) -> list[tuple[str, ...]]:
    """Median whole-process time of ``manage.py drift compare`` on parquet vs scipy's compute."""
    import tempfile

    import pyarrow as pa
    import pyarrow.parquet as pq
    from scipy import stats

    rows, columns = size["rows"], size["columns"]
    repeat = max(3, size["repeat"] + 2)
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for current in (False, True):
            path = Path(tmp) / f"{'cur' if current else 'ref'}.parquet"
            pq.write_table(pa.table(make_columns(rows, columns, 10, current)), path)
            paths.append(path)
        ref, cur = (_parquet_arrays(p) for p in paths)
        cmd = [sys.executable, str(ROOT / "manage.py"), "drift", "compare", *map(str, paths)]
        ours, theirs, ours_cpu, theirs_cpu, report = [], [], [], [], None
        for _ in range(repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            proc = subprocess.run([*cmd, "--json"], capture_output=True, text=True, check=True)
            ours.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            ours_cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            report = json.loads(proc.stdout)
            start, cpu = time.perf_counter(), time.process_time()
            scipy_ks = {k: stats.ks_2samp(ref[k], cur[k]) for k in ref}
            scipy_w1 = {k: stats.wasserstein_distance(ref[k], cur[k]) for k in ref}
            theirs.append(time.perf_counter() - start)
            theirs_cpu.append(time.process_time() - cpu)
    assert report is not None
    worst = 0.0
    for k in ref:
        t = report["columns"][k]["tests"]
        w1n = scipy_w1[k] / max(float(np.std(ref[k])), 1e-3)
        worst = max(
            worst,
            abs(t["ks"]["statistic"] - scipy_ks[k].statistic),
            abs(t["ks"]["p_value"] - scipy_ks[k].pvalue),
            abs(t["wasserstein_normed"]["raw"] - scipy_w1[k]),
            abs(t["wasserstein_normed"]["value"] - w1n),
        )
    a, b = statistics.median(ours), statistics.median(theirs)
    ac, bc = statistics.median(ours_cpu), statistics.median(theirs_cpu)
    label = f"{rows:,} rows x {columns} columns parquet, {repeat} alternating runs"
    return [
        ("manage.py drift compare --json (whole process)", f"{a:.3f}", f"{ac:.3f}", label),
        ("scipy ks_2samp + wasserstein_distance", f"{b:.3f}", f"{bc:.3f}", "compute only"),
        ("ratio (target <= 0.15)", f"{a / b:.3f}", f"{ac / bc:.3f}", f"max |diff| {worst:.1e}"),
    ]


def _parquet_arrays(path: Path) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    return {name: table.column(name).to_numpy() for name in table.column_names}


def print_table(head: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))


ENGINES = {
    "columns": ["ewsdash cold", "ewsdash warm", "scipy"],
    "draws": ["ewsdash", "scipy ks_2samp(axis=1)", "scipy wasserstein_distance loop"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller data, one run")
    parser.add_argument(
        "--command-only", action="store_true", help="only the manage.py drift compare case"
    )
    parser.add_argument("--run", nargs=2, metavar=("CASE", "ENGINE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    if args.run:
        print(json.dumps(run_case(args.run[0], args.run[1], size)))
        return
    print(f"sizes: {json.dumps(size)}")
    # np.sort's speed depends on the SIMD path numpy dispatches to (on AMD Zen 4 its AVX-512
    # sort is several times slower than its AVX2 one), so record what this run used.
    disabled = os.environ.get("NPY_DISABLE_CPU_FEATURES", "") or "none"
    print(
        f"numpy {np.__version__}, usable CPUs {usable_cpus()}, NPY_DISABLE_CPU_FEATURES: {disabled}"
    )
    print_table(("command case", "wall s", "CPU s", "note"), command_case(size))
    if args.command_only:
        return
    rows = []
    for case, engines in ENGINES.items():
        results = {}
        for engine in engines:
            cmd = [sys.executable, __file__, "--run", case, engine] + (["--quick"] * args.quick)
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            results[engine] = json.loads(proc.stdout.strip().splitlines()[-1])
        base = next(v["seconds"] for k, v in results.items() if k.startswith("scipy"))
        for engine, r in results.items():
            rows.append(
                (
                    case,
                    engine,
                    f"{r['seconds']:.3f}",
                    f"{r['rss_mb']:.0f}",
                    f"{r['traced_mb']:.0f}",
                    f"{r['seconds'] / base:.3f}",
                    r["note"],
                )
            )
    head = ("case", "engine", "median s", "peak RSS MB", "engine MB", "vs scipy", "note")
    print_table(head, rows)
    print(
        "vs scipy: ratio to the first scipy row of the case (columns: ks_2samp + "
        "wasserstein_distance loop; draws: ks_2samp(axis=1), KS only)"
    )
    print(parity_check(size))


if __name__ == "__main__":
    main()
