"""Item 4: a drift or schema check that could test nothing says `inconclusive`, and why.

On main an all-NaN, all-inf, empty or type-mismatched candidate file gave "no drift in 1
file(s)" and a schema check passed a 0-row file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from monitoring.validation import CommandResult, JudgeContext, get_kind, parse_manifest

N = 400
RAN = CommandResult(0, False, False, 0.1, "", 0, 0)  # the command that wrote the file


def write(path: Path, **columns) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


def base_columns(n: int = N) -> dict:
    return {"month_id": np.arange(n) % 12, "country_id": np.arange(n)}


def drift_outcome(tmp_path: Path, **candidate):
    manifest = parse_manifest(
        '[[check]]\nname = "drift"\nkind = "drift"\nrun = "true"\n'
        'predictions = "{artifacts}/p.parquet"\n'
    )
    spec = manifest.check("drift")
    production = write(
        tmp_path / "production" / "p.parquet",
        **base_columns(),
        pred_x=np.random.default_rng(1).random(N),
    )
    own = tmp_path / "artifacts" / "drift"
    write(own / "p.parquet", **candidate)
    context = JudgeContext(
        worktree=tmp_path,
        folders={"drift": own},
        command=RAN,
        baseline_files={"p.parquet": production},
        baseline_ref={"run": 1, "check": 1},
    )
    return get_kind("drift").judge(spec, context)


@pytest.mark.parametrize(
    ("values", "words"),
    [
        (np.full(N, np.nan), "the candidate's file has no usable value"),
        (np.full(N, np.inf), "every value NaN or infinite"),
        (np.array(["a"] * N), "the types differ (reference numeric, current categorical)"),
    ],
)
def test_a_drift_check_that_tested_nothing_is_inconclusive(tmp_path, values, words):
    outcome = drift_outcome(tmp_path, **base_columns(), pred_x=values)
    assert outcome.status == "inconclusive"
    assert outcome.summary.startswith("could not test 1 column(s): pred_x (p.parquet): ")
    assert words in outcome.summary


def test_an_empty_candidate_file_is_inconclusive(tmp_path):
    empty = {
        "month_id": pa.array([], pa.int64()),
        "country_id": pa.array([], pa.int64()),
        "pred_x": pa.array([], pa.float64()),
    }
    outcome = drift_outcome(tmp_path, **empty)
    assert outcome.status == "inconclusive"
    assert "no usable value (no rows" in outcome.summary


def test_no_shared_column_is_inconclusive(tmp_path):
    outcome = drift_outcome(tmp_path, **base_columns(), pred_y=np.random.default_rng(2).random(N))
    assert outcome.status == "inconclusive"
    assert "no column to compare (production has" in outcome.summary


def test_a_real_comparison_still_passes(tmp_path):
    outcome = drift_outcome(tmp_path, **base_columns(), pred_x=np.random.default_rng(1).random(N))
    assert outcome.status == "passed", outcome.summary


def test_a_schema_check_of_a_zero_row_file_is_inconclusive(tmp_path):
    manifest = parse_manifest(
        '[[check]]\nname = "schema"\nkind = "schema"\nrun = "true"\n'
        'files = "{artifacts}/p.parquet"\n'
        'columns = { pred_x = { type = "float" } }\n'
    )
    own = tmp_path / "artifacts" / "schema"
    write(own / "p.parquet", month_id=pa.array([], pa.int64()), pred_x=pa.array([], pa.float64()))
    context = JudgeContext(worktree=tmp_path, folders={"schema": own}, command=RAN)
    outcome = get_kind("schema").judge(manifest.check("schema"), context)
    assert outcome.status == "inconclusive"
    assert outcome.summary == "nothing to check: p.parquet has no rows"
