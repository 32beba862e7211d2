"""A manifest end to end: commands write forecasts and metrics, their kinds judge them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitoring.validation.checks import check_environment, command_line
from monitoring.validation.kinds import JudgeContext, get_kind
from monitoring.validation.manifest import Manifest, parse_manifest
from monitoring.validation.metrics import MetricRow
from monitoring.validation.outcome import CheckOutcome
from monitoring.validation.process import run_command

WRITE_FORECAST = """\
import sys
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
out, units, steps = sys.argv[1], 4, int(sys.argv[2])
rows = units * steps
offsets = pa.array(np.arange(rows + 1, dtype=np.int32) * 16)
draws = pa.array(np.ones(rows * 16, dtype=np.float32))
pq.write_table(pa.table({
    "month_id": np.repeat(np.arange(530, 530 + steps), units),
    "country_id": np.tile(np.arange(units), steps),
    "pred_lr_ged_sb": pa.ListArray.from_arrays(offsets, draws),
}), out + "/preds.parquet")
open(out + "/metrics.json", "w").write(
    '[{"model": "m", "target": "ged_sb", "metric": "mse", "step": 1, "value": %s}]' % sys.argv[3])
"""

MANIFEST = """\
[[check]]
name = "unit-tests"
kind = "command"
run = "test -f write_forecast.py"

[[check]]
name = "inference"
kind = "inference"
run = "python write_forecast.py {artifacts} STEPS MSE"
predictions = "{artifacts}/*.parquet"
unit = "country_id"
steps = 36
timeout = "1m"

[[check]]
name = "schema"
kind = "schema"
from = "inference"
columns = { pred_lr_ged_sb = { type = "list<float32>", max_missing = 0.0 } }

[[check]]
name = "performance"
kind = "performance"
from = "inference"
metrics = "{artifacts}/metrics.json"
tolerance = 0.01
"""


def run_all(
    tmp_path: Path, manifest: Manifest, baseline: list[MetricRow] | None
) -> dict[str, CheckOutcome]:
    """What the Celery task does, minus the database."""
    worktree = tmp_path / "worktree"
    folders = {spec.name: tmp_path / "artifacts" / spec.name for spec in manifest.checks}
    outcomes: dict[str, CheckOutcome] = {}
    for spec in manifest.checks:
        folders[spec.name].mkdir(parents=True)
        result = None
        if spec.run:
            result = run_command(
                command_line(spec, worktree=worktree, folders=folders),
                cwd=worktree,
                timeout=spec.timeout_s,
                log_path=tmp_path / "logs" / f"{spec.name}.log",
                env=check_environment(spec, worktree=worktree, folders=folders),
            )
        context = JudgeContext(
            worktree=worktree, folders=folders, command=result, baseline_metrics=baseline
        )
        outcomes[spec.name] = get_kind(spec.kind).judge(spec, context)
    return outcomes


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    path = tmp_path / "worktree"
    path.mkdir()
    (path / "write_forecast.py").write_text(WRITE_FORECAST)
    return path


def test_a_good_candidate_passes_every_check(tmp_path: Path, worktree: Path) -> None:
    manifest = parse_manifest(MANIFEST.replace("STEPS", "36").replace("MSE", "1.0"))
    baseline = [MetricRow("m", "ged_sb", "mse", 1, 1.0)]
    outcomes = run_all(tmp_path, manifest, baseline)
    for name, outcome in outcomes.items():
        assert outcome.passed, (name, outcome.summary)
    inference = outcomes["inference"]
    assert inference.artifacts[0]["path"] == "preds.parquet"
    assert inference.details["command"]["exit_code"] == 0
    json.dumps({k: v.to_dict() for k, v in outcomes.items()})


def test_a_bad_candidate_fails_where_it_is_bad(tmp_path: Path, worktree: Path) -> None:
    manifest = parse_manifest(MANIFEST.replace("STEPS", "35").replace("MSE", "1.5"))
    outcomes = run_all(tmp_path, manifest, [MetricRow("m", "ged_sb", "mse", 1, 1.0)])
    assert outcomes["unit-tests"].passed
    assert "1 month(s) have no rows: month_id 565 (step 36)" in outcomes["inference"].summary
    assert outcomes["schema"].passed
    assert "+50.00% worse" in outcomes["performance"].summary


def test_a_failing_command_fails_before_files_are_read(tmp_path: Path, worktree: Path) -> None:
    manifest = parse_manifest(MANIFEST.replace("python write_forecast.py", "python nope.py"))
    outcomes = run_all(tmp_path, manifest, None)
    assert outcomes["inference"].summary == "the command exited with status 2"
    assert outcomes["schema"].status == "failed"
    assert "no files matched" in outcomes["schema"].summary


def test_command_sees_its_folders_and_the_workers_python(tmp_path: Path, worktree: Path) -> None:
    manifest = parse_manifest(
        '[[check]]\nname = "env"\nkind = "command"\n'
        'run = "test \\"$EWSDASH_ARTIFACTS\\" = {artifacts} && python -c \\"import pyarrow\\""\n'
    )
    assert run_all(tmp_path, manifest, None)["env"].passed


def test_corrupt_parquet_from_the_candidate_fails(tmp_path: Path, worktree: Path) -> None:
    (worktree / "write_forecast.py").write_text(
        "import sys; open(sys.argv[1] + '/preds.parquet', 'wb').write(b'garbage')"
    )
    manifest = parse_manifest(MANIFEST)
    outcome = run_all(tmp_path, manifest, None)["inference"]
    assert outcome.status == "failed" and "cannot read" in outcome.summary
