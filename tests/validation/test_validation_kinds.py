"""The check-kind registry: a new kind is one module plus one registry line; every kind
round-trips through ``Manifest.to_dict``/``from_dict``, and manifests stored before the
registry still load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from monitoring.validation.checks import check_environment, command_line
from monitoring.validation.fields import CheckTable
from monitoring.validation.kinds import KIND_NAMES, KINDS, CheckKind, JudgeContext, get_kind
from monitoring.validation.kinds.base import judge_files, pattern_or_from
from monitoring.validation.manifest import CheckSpec, Manifest, ManifestError, parse_manifest
from monitoring.validation.outcome import CheckOutcome, file_record
from monitoring.validation.process import run_command

# -- a kind written in a test, as a new module of kinds/ would be ---------------------------


class LineCountKind(CheckKind):
    """Every matched text file has at most ``steps`` lines."""

    name = "line-count"
    fields = ("run", "from", "files", "steps")
    pattern_field = "files"

    def parse(self, table: CheckTable, *, source: CheckSpec | None) -> dict[str, Any]:
        steps = table.get("steps", int, "an integer")
        if steps is None:
            raise table.fail("missing required field (most lines per file)", "steps")
        return {"files": pattern_or_from(table, "files", source), "steps": steps}

    def judge(self, spec: CheckSpec, context: JudgeContext) -> CheckOutcome:
        def evaluate(files: list[Path], root: Path | None) -> CheckOutcome:
            if not files:
                return CheckOutcome("failed", "no files matched")
            assert spec.steps is not None
            records = [file_record(path, root=root) for path in files]
            long = [path.name for path in files if len(path.read_text().splitlines()) > spec.steps]
            if long:
                return CheckOutcome("failed", f"too long: {', '.join(long)}", {}, records)
            return CheckOutcome("passed", f"{len(files)} file(s) short enough", {}, records)

        return judge_files(spec, context, evaluate)


TOY_MANIFEST = """\
[[check]]
name = "write"
kind = "command"
run = "printf 'a\\\\nb\\\\nc\\\\n' > {artifacts}/three.txt"

[[check]]
name = "short-files"
kind = "line-count"
from = "write"
files = "{artifacts}/*.txt"
steps = STEPS
"""


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> LineCountKind:
    kind = LineCountKind()
    monkeypatch.setitem(KINDS, kind.name, kind)  # the registry line
    return kind


def judge_all(tmp_path: Path, manifest: Manifest) -> dict[str, CheckOutcome]:
    """What the worker does for each check, minus the database."""
    worktree = tmp_path / "worktree"
    worktree.mkdir(parents=True)
    folders = {spec.name: tmp_path / "artifacts" / spec.name for spec in manifest.checks}
    outcomes = {}
    for spec in manifest.checks:
        folders[spec.name].mkdir(parents=True)
        command = None
        if spec.run is not None:
            command = run_command(
                command_line(spec, worktree=worktree, folders=folders),
                cwd=worktree,
                timeout=spec.timeout_s,
                log_path=tmp_path / "logs" / f"{spec.name}.log",
                env=check_environment(spec, worktree=worktree, folders=folders),
            )
        context = JudgeContext(worktree=worktree, folders=folders, command=command)
        outcomes[spec.name] = get_kind(spec.kind).judge(spec, context)
    return outcomes


def test_a_registered_kind_is_parsed_with_its_own_fields(toy: LineCountKind) -> None:
    spec = parse_manifest(TOY_MANIFEST.replace("STEPS", "3")).check("short-files")
    assert (spec.kind, spec.files, spec.steps) == ("line-count", "{artifacts}/*.txt", 3)
    assert spec.pattern == "{artifacts}/*.txt"
    assert spec.depends_on == ("write",) and spec.artifacts_owner == "write"


def test_a_registered_kind_judges_its_result(tmp_path: Path, toy: LineCountKind) -> None:
    passing = judge_all(tmp_path / "a", parse_manifest(TOY_MANIFEST.replace("STEPS", "3")))
    assert passing["short-files"].passed, passing["short-files"].summary
    assert passing["short-files"].artifacts[0]["path"] == "three.txt"
    failing = judge_all(tmp_path / "b", parse_manifest(TOY_MANIFEST.replace("STEPS", "2")))
    assert failing["short-files"].status == "failed"
    assert failing["short-files"].summary == "too long: three.txt"


def test_a_registered_kind_refuses_fields_it_does_not_declare(toy: LineCountKind) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(TOY_MANIFEST.replace("STEPS", "3") + "tolerance = 0.1\n")
    assert caught.value.field == "tolerance"
    assert caught.value.problem == (
        "unknown field for a line-count check (allowed: files, from, kind, name, network, "
        "required, run, secrets, steps, timeout)"
    )


def test_a_registered_kind_checks_its_own_fields(toy: LineCountKind) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(TOY_MANIFEST.replace("steps = STEPS\n", ""))
    assert (caught.value.check, caught.value.field) == ("short-files", "steps")
    assert caught.value.problem == "missing required field (most lines per file)"


def test_an_unknown_kind_is_refused_naming_the_registered_ones(toy: LineCountKind) -> None:
    with pytest.raises(ManifestError) as caught:
        text = TOY_MANIFEST.replace("STEPS", "3")
        parse_manifest(text.replace('kind = "line-count"', 'kind = "line-counts"'))
    assert caught.value.problem == (
        'unknown kind "line-counts" (expected one of command, drift, external, inference, '
        "line-count, performance, schema, skill)"
    )


def test_a_registered_kind_round_trips(toy: LineCountKind) -> None:
    manifest = parse_manifest(TOY_MANIFEST.replace("STEPS", "3"))
    stored = json.loads(json.dumps(manifest.to_dict()))
    assert stored["check"][1] == {
        "name": "short-files",
        "kind": "line-count",
        "required": True,
        "timeout": 600,
        "from": "write",
        "files": "{artifacts}/*.txt",
        "steps": 3,
    }
    assert Manifest.from_dict(stored) == manifest


def test_the_registry_holds_the_built_in_kinds() -> None:
    assert KIND_NAMES == (
        "command",
        "drift",
        "external",
        "inference",
        "performance",
        "schema",
        "skill",
    )
    assert all(get_kind(name).name == name for name in KIND_NAMES)
    with pytest.raises(KeyError):
        get_kind("line-count")


def test_each_kind_says_what_it_outputs_and_whether_it_compares_with_production() -> None:
    declared = {
        name: (kind.output_kind, kind.compares_with_production, kind.pattern_field)
        for name, kind in KINDS.items()
    }
    assert declared == {
        "command": ("file", False, None),
        "inference": ("predictions", False, "predictions"),
        "schema": ("file", False, "files"),
        "performance": ("metrics", True, "metrics"),
        "drift": ("predictions", True, "predictions"),
        "external": ("predictions", False, "predictions"),
        "skill": ("predictions", True, "predictions"),
    }


# -- every kind round-trips -----------------------------------------------------------------

# One check per built-in kind with every field of its kind set. A new kind adds its own.
FULL = """\
[[check]]
name = "unit-tests"
kind = "command"
run = "python -m pytest -q"
timeout = "5m"

[[check]]
name = "inference"
kind = "inference"
run = "python run_inference.py --out {artifacts}"
predictions = "{artifacts}/*.parquet"
unit = "country_id"
time = "month_id"
steps = 36
first_month = 530
count_targets = true

[[check]]
name = "schema"
kind = "schema"
from = "inference"
time = "month_id"
extreme_sd = 10
[check.columns]
pred_lr_ged_sb = { type = "list<float32>", max_missing = 0.0, max_zero_month = 0.9 }
country_id = { type = "int64", required = true, min = 1, max = 300, extreme_sd = 5 }

[[check]]
name = "performance"
kind = "performance"
run = "python evaluate.py --in {artifacts:inference} --out {artifacts}"
metrics = "{artifacts}/metrics.json"
tolerance = 0.01
abs_tolerance = 0.5
directions = { tadda_score = "lower", skill = "higher" }

[[check]]
name = "prediction-drift"
kind = "drift"
from = "inference"
columns = ["pred_lr_ged_sb"]
required = false
timeout = 900
options = { alpha = 0.01 }

[[check]]
name = "remote-run"
kind = "external"
predictions = "{artifacts}/*.parquet"
metrics = "{artifacts}/metrics.json"
deadline = "48h"

[[check]]
name = "skill"
kind = "skill"
from = "inference"
outcomes = "{artifacts}/outcomes.parquet"
unit = "country_id"
time = "month_id"
scores = ["CRPS", "MSLE", "twCRPS"]
alpha = 0.1
threshold = 10
floors = [{ metric = "MSLE", beat = "zeros" }, { metric = "CRPS", beat = "last" }]
"""
# Kinds added after the registry (they have no stored form from before it).
LATER_KINDS = {"skill"}

# FULL as Manifest.to_dict wrote it before the kinds had a registry: runs store this.
STORED_BEFORE_THE_REGISTRY: dict[str, Any] = {
    "path": "ewsdash.toml",
    "check": [
        {
            "name": "unit-tests",
            "kind": "command",
            "required": True,
            "timeout": 300,
            "run": "python -m pytest -q",
        },
        {
            "name": "inference",
            "kind": "inference",
            "required": True,
            "timeout": 600,
            "run": "python run_inference.py --out {artifacts}",
            "predictions": "{artifacts}/*.parquet",
            "unit": "country_id",
            "time": "month_id",
            "steps": 36,
            "first_month": 530,
            "count_targets": True,
        },
        {
            "name": "schema",
            "kind": "schema",
            "required": True,
            "timeout": 600,
            "from": "inference",
            "files": "{artifacts}/*.parquet",
            "time": "month_id",
            "columns": {
                "pred_lr_ged_sb": {
                    "required": True,
                    "type": "list<float32>",
                    "max_missing": 0.0,
                    "max_zero_month": 0.9,
                },
                "country_id": {
                    "required": True,
                    "type": "int64",
                    "min": 1.0,
                    "max": 300.0,
                    "extreme_sd": 5.0,
                },
            },
            "extreme_sd": 10.0,
        },
        {
            "name": "performance",
            "kind": "performance",
            "required": True,
            "timeout": 600,
            "run": "python evaluate.py --in {artifacts:inference} --out {artifacts}",
            "metrics": "{artifacts}/metrics.json",
            "tolerance": 0.01,
            "abs_tolerance": 0.5,
            "directions": {"skill": "higher", "tadda_score": "lower"},
        },
        {
            "name": "prediction-drift",
            "kind": "drift",
            "required": False,
            "timeout": 900,
            "from": "inference",
            "predictions": "{artifacts}/*.parquet",
            "columns": ["pred_lr_ged_sb"],
            "options": {"alpha": 0.01},
        },
        # Added with the external kind (issue 17); the forms above are unchanged.
        {
            "name": "remote-run",
            "kind": "external",
            "required": True,
            "timeout": 600,
            "predictions": "{artifacts}/*.parquet",
            "metrics": "{artifacts}/metrics.json",
            "deadline": 172800,
        },
    ],
}


def test_the_sample_covers_every_registered_kind() -> None:
    assert sorted(spec.kind for spec in parse_manifest(FULL).checks) == sorted(KINDS)


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_every_kind_round_trips_with_all_its_fields(kind: str) -> None:
    manifest = parse_manifest(FULL)
    spec = next(spec for spec in manifest.checks if spec.kind == kind)
    stored = json.loads(json.dumps(spec.to_dict()))
    reads_from = {"run"} if spec.from_check else {"from"}
    assert set(stored) == {"name", "kind", "required", "timeout"} | (
        set(get_kind(kind).fields) - reads_from
    )
    again = Manifest.from_dict({"check": [c.to_dict() for c in manifest.checks]})
    assert again.check(spec.name) == spec
    assert again.check(spec.name).to_dict() == spec.to_dict()


def _older(manifest: Manifest) -> Manifest:
    return Manifest(manifest.path, tuple(c for c in manifest.checks if c.kind not in LATER_KINDS))


def test_the_stored_form_is_unchanged_to_the_key_order() -> None:
    written = _older(parse_manifest(FULL)).to_dict()
    assert json.dumps(written) == json.dumps(STORED_BEFORE_THE_REGISTRY)


def test_manifests_stored_before_the_registry_still_load() -> None:
    manifest = Manifest.from_dict(STORED_BEFORE_THE_REGISTRY)
    assert manifest == _older(parse_manifest(FULL))
    assert manifest.to_dict() == STORED_BEFORE_THE_REGISTRY


def test_the_validation_package_imports_no_django() -> None:
    code = (
        "import sys, monitoring.validation, monitoring.validation.kinds; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    root = Path(__file__).resolve().parents[2]
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
