"""File-level comparisons: the JSON-able report the dashboard stores and shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .categorical import compare_categorical
from .config import DEFAULT_CONFIG, DriftConfig
from .draws import DrawsComparison, compare_draws
from .io import (
    Cube,
    DriftInputError,
    column_kind,
    is_parquet,
    parquet_rows,
    read_file,
    read_parquet_numeric,
    read_schema,
)
from .multiple import apply_verdicts
from .numeric import NumericProfile, compare_numeric, profile_numeric
from .profile import ColumnProfile, ReferenceProfile, profile_file_data


def _select_columns(
    ref_names: Sequence[str],
    cur_names: Sequence[str],
    columns: Sequence[str] | None,
    config: DriftConfig,
    ref_label: str,
    cur_label: str,
) -> tuple[list[str], dict[str, list[str]]]:
    if columns is not None:
        for c in columns:
            if c not in ref_names:
                raise DriftInputError(f"column {c!r} not in reference {ref_label}")
            if c not in cur_names:
                raise DriftInputError(f"column {c!r} not in current {cur_label}")
        return list(dict.fromkeys(columns)), {}
    cur_set = set(cur_names)
    chosen = [c for c in ref_names if c in cur_set and c not in config.exclude_columns]
    skipped = {
        "only_reference": [c for c in ref_names if c not in cur_set],
        "only_current": [c for c in cur_names if c not in set(ref_names)],
    }
    return chosen, skipped


def profile_file(
    path: str | Path,
    columns: Sequence[str] | None = None,
    config: DriftConfig | None = None,
    *,
    role: str = "reference",
) -> ReferenceProfile:
    """Read a reference file once into a reusable, serialisable profile.

    ``role`` names the file in errors (the drift jobs profile current files too).
    """
    config = config or DEFAULT_CONFIG
    schema = read_schema(path, role)
    if columns is None:
        columns = [c for c in schema.names if c not in config.exclude_columns]
    data = read_file(path, columns, config.batch_rows, role)
    return ReferenceProfile(
        profile_file_data(data, config), config, {"path": str(path), "rows": data.rows}
    )


def _align_cubes(
    ref: Cube, cur: Cube
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    units = np.intersect1d(ref.units, cur.units)
    months = np.intersect1d(ref.months, cur.months)

    def take(c: Cube) -> np.ndarray:
        ui = np.searchsorted(c.units, units)
        mi = np.searchsorted(c.months, months)
        if ui.size == c.units.size and mi.size == c.months.size:
            return c.values
        return c.values[np.ix_(ui, mi)]

    unmatched = {
        "reference_only_units": int(ref.units.size - units.size),
        "current_only_units": int(cur.units.size - units.size),
        "reference_only_months": int(ref.months.size - months.size),
        "current_only_months": int(cur.months.size - months.size),
    }
    return take(ref), take(cur), units, months, unmatched


def _compare_column(
    name: str, ref: ColumnProfile, cur: ColumnProfile, config: DriftConfig
) -> dict[str, Any]:
    return compare_column_profiles(ref, cur, config)[0]


def compare_column_profiles(
    ref: ColumnProfile, cur: ColumnProfile, config: DriftConfig = DEFAULT_CONFIG
) -> tuple[dict[str, Any], DrawsComparison | None]:
    """One column's result (without the verdict: see apply_verdicts), and for a draws column
    the per-cell comparison behind its ``cells`` roll-ups (None otherwise or when skipped).

    The Celery drift jobs need the per-cell arrays for their unit x step matrices; the file
    report keeps only the roll-ups.
    """
    cmp: DrawsComparison | None = None
    if ref.kind != cur.kind:
        return {
            "kind": ref.kind,
            "n_reference": 0,
            "n_current": 0,
            "dropped": {"reference": 0, "current": 0},
            "status": f"type_mismatch: reference {ref.kind}, current {cur.kind}",
            "tests": {},
            "conventions": {},
        }, None
    if ref.kind == "categorical":
        assert ref.categorical is not None and cur.categorical is not None
        return compare_categorical(
            ref.categorical, cur.categorical.counts, config, current_dropped=cur.categorical.dropped
        ), None
    assert ref.numeric is not None and cur.numeric is not None
    result = compare_numeric(
        ref.numeric,
        cur.numeric.sorted_values,
        config,
        current_dropped=cur.numeric.dropped,
        current_sorted_finite=True,
    )
    if ref.kind == "draws":
        result["kind"] = "draws"
        result["dropped"]["reference"] += ref.null_rows
        result["dropped"]["current"] += cur.null_rows
        result["conventions"]["draws"] = (
            "column-level tests pool every draw of every row; "
            "null lists count as one dropped value each"
        )
        if ref.cube is None or cur.cube is None:
            reason = ref.cube_reason if ref.cube is None else cur.cube_reason
            result["cells"] = {"status": "skipped", "reason": reason}
        else:
            a, b, units, months, unmatched = _align_cubes(ref.cube, cur.cube)
            if a.size == 0 or b.size == 0:
                result["cells"] = {"status": "skipped", "reason": "no common unit x month"}
            else:
                cmp = compare_draws(a, b, config, unit_ids=units, first_month=int(months[0]))
                cells = cmp.to_dict()
                cells["status"] = "ok"
                cells["unmatched"] = unmatched
                if months.size and not np.array_equal(months, months[0] + np.arange(months.size)):
                    cells["conventions"]["steps"] = (
                        "months are not consecutive: step k is the "
                        "k-th common month, shown in 'month'"
                    )
                    for row, m in zip(cells["by_step"], months.tolist(), strict=True):
                        row["month"] = m
                result["cells"] = cells
    return result, cmp


def compare_profile(
    reference: ReferenceProfile,
    current_path: str | Path,
    columns: Sequence[str] | None = None,
    config: DriftConfig | None = None,
) -> dict[str, Any]:
    """Compare a current file with an already-built reference profile."""
    config = config or reference.config
    cur_schema = read_schema(current_path, "current")
    chosen, skipped = _select_columns(
        list(reference.columns), cur_schema.names, columns, config, "profile", str(current_path)
    )
    data = read_file(current_path, chosen, config.batch_rows, "current")
    current = profile_file_data(data, config)
    results = {c: _compare_column(c, reference.columns[c], current[c], config) for c in chosen}
    summary = apply_verdicts(results, config)
    summary["reference"] = reference.source
    summary["current"] = {"path": str(current_path), "rows": data.rows}
    if skipped and (skipped["only_reference"] or skipped["only_current"]):
        summary["skipped_columns"] = skipped
    return {"columns": results, "summary": summary}


def compare_files(
    reference_path: str | Path,
    current_path: str | Path,
    columns: Sequence[str] | None = None,
    config: DriftConfig | None = None,
) -> dict[str, Any]:
    """Compare two parquet/CSV files column by column. See the package docstring."""
    config = config or DEFAULT_CONFIG
    ref_schema = read_schema(reference_path, "reference")
    cur_schema = read_schema(current_path, "current")
    chosen, skipped = _select_columns(
        ref_schema.names, cur_schema.names, columns, config, str(reference_path), str(current_path)
    )
    fast: list[str] = []
    if is_parquet(reference_path, "reference") and is_parquet(current_path, "current"):
        fast = [
            c
            for c in chosen
            if column_kind(ref_schema.field(c).type) == "numeric"
            and column_kind(cur_schema.field(c).type) == "numeric"
        ]
    rest = [c for c in chosen if c not in set(fast)]
    if not fast:
        profile = profile_file(reference_path, chosen, config)
        out = compare_profile(profile, current_path, chosen, config)
    else:
        results = _compare_parquet_numeric(reference_path, current_path, fast, config)
        ref_rows = parquet_rows(reference_path, "reference")
        cur_rows = parquet_rows(current_path, "current")
        if rest:
            profile = profile_file(reference_path, rest, config)
            results.update(compare_profile(profile, current_path, rest, config)["columns"])
        ordered = {c: results[c] for c in chosen}
        summary = apply_verdicts(ordered, config)
        summary["reference"] = {"path": str(reference_path), "rows": ref_rows}
        summary["current"] = {"path": str(current_path), "rows": cur_rows}
        out = {"columns": ordered, "summary": summary}
    if skipped and (skipped["only_reference"] or skipped["only_current"]):
        out["summary"]["skipped_columns"] = skipped
    return out


def _compare_parquet_numeric(
    reference_path: str | Path,
    current_path: str | Path,
    columns: Sequence[str],
    config: DriftConfig,
) -> dict[str, dict[str, Any]]:
    """Numeric columns of two parquet files, one column per task over ``config.workers``
    threads: each task reads its column from both files (pyarrow releases the GIL), sorts
    both in place and compares them, so at most ``workers`` column pairs are alive at once.
    Same results as the streamed path (tests/drift/test_drift_fast.py)."""

    def one(name: str) -> dict[str, Any]:
        ref, ref_dropped = read_parquet_numeric(reference_path, name, "reference")
        ref.sort()
        prof = profile_numeric(ref, config, dropped=ref_dropped, assume_sorted_finite=True)
        cur, cur_dropped = read_parquet_numeric(current_path, name, "current")
        cur.sort()
        return compare_numeric(
            prof, cur, config, current_dropped=cur_dropped, current_sorted_finite=True
        )

    workers = config.workers(len(columns))
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            return dict(zip(columns, pool.map(one, columns), strict=True))
    return {c: one(c) for c in columns}


def compare_columns(
    reference: Mapping[str, Any], current: Mapping[str, Any], config: DriftConfig | None = None
) -> dict[str, Any]:
    """The compare_files report for in-memory numeric columns.

    ``reference`` maps names to arrays or NumericProfiles, ``current`` to arrays. Columns are
    spread over ``config.workers(columns)`` threads (numpy's sorts release the GIL).
    """
    config = config or DEFAULT_CONFIG
    missing = [c for c in reference if c not in current]
    if missing:
        raise DriftInputError(f"column(s) {', '.join(missing)} missing from current")

    def one(name: str) -> dict[str, Any]:
        ref = reference[name]
        if not isinstance(ref, NumericProfile):
            ref = np.asarray(ref)
        return compare_numeric(ref, current[name], config)

    names = list(reference)
    workers = config.workers(len(names))
    if workers > 1:
        # A column's sorts, merge and ufuncs release the GIL: columns run in parallel.
        with ThreadPoolExecutor(workers) as pool:
            results = dict(zip(names, pool.map(one, names), strict=True))
    else:
        results = {n: one(n) for n in names}
    return {"columns": results, "summary": apply_verdicts(results, config)}
