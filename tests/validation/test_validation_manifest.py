from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitoring.validation.manifest import (
    ManifestError,
    PathEscapeError,
    expand_placeholders,
    find_files,
    parse_duration,
    parse_manifest,
)

GOOD = """\
[[check]]
name = "unit-tests"
kind = "command"          # any command; passes on exit 0
run = "python -m unittest discover -s tests -q"
timeout = "10m"

[[check]]
name = "inference"
kind = "inference"
run = "python run_inference.py --out {artifacts}"
predictions = "{artifacts}/*.parquet"
unit = "country_id"
time = "month_id"
steps = 36

[[check]]
name = "schema"
kind = "schema"
from = "inference"
extreme_sd = 10

[check.columns.pred_lr_ged_sb]
type = "list<float32>"
max_missing = 0.0
max_zero_month = 0.9

[[check]]
name = "performance"
kind = "performance"
run = "python evaluate.py --in {artifacts:inference} --out {artifacts}"
metrics = "{artifacts}/metrics.json"
tolerance = 0.01
directions = { tadda_score = "lower" }

[[check]]
name = "prediction-drift"
kind = "drift"
from = "inference"
columns = ["pred_lr_ged_sb"]
required = false
options = { alpha = 0.01 }
"""


def error_of(text: str) -> ManifestError:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text)
    return caught.value


def test_a_full_manifest_parses() -> None:
    manifest = parse_manifest(GOOD)
    names = [spec.name for spec in manifest.checks]
    assert names == ["unit-tests", "inference", "schema", "performance", "prediction-drift"]
    tests, inference, schema, performance, drift = manifest.checks
    assert tests.timeout_s == 600 and tests.required
    assert inference.steps == 36 and inference.unit == "country_id"
    assert schema.files == "{artifacts}/*.parquet"  # taken from the inference check
    assert schema.artifacts_owner == "inference" and schema.depends_on == ("inference",)
    assert schema.column_rules[0].type == "list<float32>"
    assert schema.column_rules[0].max_zero_month == 0.9
    assert schema.extreme_sd == 10.0
    assert performance.depends_on == ("inference",)
    assert performance.artifacts_owner == "performance"
    assert performance.direction_overrides == {"tadda_score": "lower"}
    assert not drift.required and drift.columns == ("pred_lr_ged_sb",)
    assert drift.predictions == "{artifacts}/*.parquet"
    assert [spec.name for spec in manifest.required_checks] == names[:4]


def test_round_trips_through_json() -> None:
    manifest = parse_manifest(GOOD)
    stored = json.loads(json.dumps(manifest.to_dict()))
    again = type(manifest).from_dict(stored)
    assert again == manifest
    assert again.checks[2].column_rules == manifest.checks[2].column_rules


@pytest.mark.parametrize(
    ("value", "seconds"), [("90s", 90), ("10m", 600), ("1h", 3600), (45, 45), (" 2m ", 120)]
)
def test_durations(value: object, seconds: int) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["10", "1d", "-5s", "ten minutes", True, 1.5])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


def test_unknown_kind_names_file_line_check_field() -> None:
    text = GOOD.replace('kind = "inference"', 'kind = "inferense"')
    error = error_of(text)
    assert str(error) == (
        'ewsdash.toml, line 9, check "inference", field "kind": unknown kind "inferense" '
        "(expected one of command, drift, external, inference, performance, schema, skill)"
    )
    assert (error.line, error.check, error.field) == (9, "inference", "kind")


def test_missing_field_names_the_header_line() -> None:
    text = GOOD.replace("steps = 36\n", "")
    error = error_of(text)
    assert error.line == 7 and error.field == "steps" and error.check == "inference"
    assert "missing required field" in str(error)
    assert str(error).startswith('ewsdash.toml, line 7, check "inference", field "steps"')


def test_bad_toml_gives_the_line() -> None:
    text = GOOD.replace('unit = "country_id"', "unit = country_id")
    error = error_of(text)
    assert error.line == 12
    assert str(error).startswith("ewsdash.toml, line 12: invalid TOML")


def test_unknown_field_is_refused_with_a_suggestion() -> None:
    text = GOOD.replace('timeout = "10m"', 'timout = "10m"')
    error = error_of(text)
    assert (error.line, error.field, error.check) == (5, "timout", "unit-tests")
    assert 'did you mean "timeout"' in str(error)


def test_unknown_column_rule_names_the_nested_line() -> None:
    text = GOOD.replace("max_zero_month = 0.9", "max_zeros_month = 0.9")
    error = error_of(text)
    assert error.field == "columns.pred_lr_ged_sb.max_zeros_month"
    assert error.line == 25


def test_duplicate_names() -> None:
    text = GOOD.replace('name = "performance"', 'name = "schema"')
    error = error_of(text)
    assert (error.line, error.field) == (28, "name")
    assert 'duplicate name "schema"' in str(error)


@pytest.mark.parametrize(
    "pattern",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "{artifacts}/../../etc/passwd",
        "data/../../secrets/*.parquet",
        "~/x.parquet",
        "{artifacts}/",
        "{artifacts}x/*.parquet",
        "{artifacts:nope}/*.parquet",
        "out/{artifacts}/x",
    ],
)
def test_escaping_paths_are_refused(pattern: str) -> None:
    text = GOOD.replace('metrics = "{artifacts}/metrics.json"', f'metrics = "{pattern}"')
    error = error_of(text)
    assert error.field == "metrics" and error.line == 31 and error.check == "performance"


def test_wrong_types() -> None:
    assert error_of(GOOD.replace("steps = 36", 'steps = "36"')).field == "steps"
    assert error_of(GOOD.replace("steps = 36", "steps = true")).field == "steps"
    assert error_of(GOOD.replace("required = false", 'required = "no"')).field == "required"
    assert error_of(GOOD.replace("tolerance = 0.01", "tolerance = -1")).field == "tolerance"
    error = error_of(GOOD.replace('type = "list<float32>"', 'type = "list<floot32>"'))
    assert error.field == "columns.pred_lr_ged_sb.type" and error.line == 23
    error = error_of(GOOD.replace('tadda_score = "lower"', 'tadda_score = "smaller"'))
    assert error.field == "directions.tadda_score"
    error = error_of(GOOD.replace('tadda_score = "lower"', "tadda_score = true"))
    assert error.field == "directions.tadda_score"


def test_count_targets_may_be_a_pattern() -> None:
    text = GOOD.replace("steps = 36", 'steps = 36\ncount_targets = "^pred_(lr|by)_"')
    check = next(c for c in parse_manifest(text).checks if c.kind == "inference")
    assert check.count_targets == "^pred_(lr|by)_"
    bad = GOOD.replace("steps = 36", 'steps = 36\ncount_targets = "pred_("')
    assert error_of(bad).field == "count_targets"


def test_a_direction_may_be_a_target_value_or_none() -> None:
    text = GOOD.replace('tadda_score = "lower"', 'Coverage = 0.95, y_hat_bar = "none"')
    check = next(c for c in parse_manifest(text).checks if c.kind == "performance")
    assert check.direction_overrides == {"Coverage": 0.95, "y_hat_bar": "none"}


def test_from_must_name_an_earlier_check() -> None:
    later = GOOD.replace('from = "inference"\nextreme_sd', 'from = "prediction-drift"\nextreme_sd')
    error = error_of(later)
    assert error.field == "from" and error.line == 19 and "comes later" in str(error)
    unknown = GOOD.replace('from = "inference"\nextreme_sd', 'from = "inferenc"\nextreme_sd')
    assert 'unknown check "inferenc"' in str(error_of(unknown))


def test_artifacts_without_a_run_or_from_is_refused() -> None:
    text = """\
[[check]]
name = "performance"
kind = "performance"
metrics = "{artifacts}/metrics.json"
"""
    error = error_of(text)
    assert error.field == "metrics" and error.line == 4 and "from" in str(error)


def test_run_may_only_name_earlier_checks() -> None:
    text = GOOD.replace("{artifacts:inference} --out", "{artifacts:schemaa} --out")
    error = error_of(text)
    assert error.field == "run" and "schemaa" in str(error)


def test_empty_and_odd_manifests() -> None:
    assert "declares no checks" in str(error_of(""))
    assert error_of('version = 1\n[[check]]\nname = "a"\nkind = "command"\nrun = "true"').line == 1
    assert error_of('[[check]]\nname = "Bad Name"\nkind = "command"\nrun = "x"').field == "name"
    assert error_of('[[check]]\nkind = "command"\nrun = "x"').field == "name"
    error = error_of('[[check]]\nname = "t"\nkind = "command"\nrun = "x"\ntimeout = "3h"')
    assert error.field == "timeout" and error.line == 5


def test_custom_path_in_messages() -> None:
    with pytest.raises(ManifestError, match=r"^ci/checks\.toml, line 1"):
        parse_manifest("[[check]\n", path="ci/checks.toml")


def test_expand_placeholders_quotes_for_the_shell(tmp_path: Path) -> None:
    folder = tmp_path / "my artifacts"
    text = "python x.py --out {artifacts} --in {artifacts:inference} && awk '{print $1}' ${HOME}"
    out = expand_placeholders(
        text,
        worktree=tmp_path,
        artifacts=folder,
        named={"inference": tmp_path / "inf"},
        quote=True,
    )
    assert f"--out '{folder}'" in out
    assert f"--in {tmp_path / 'inf'}" in out
    assert "awk '{print $1}' ${HOME}" in out


def test_find_files_refuses_symlinks_out_of_the_folder(tmp_path: Path) -> None:
    art = tmp_path / "art"
    art.mkdir()
    (art / "a.parquet").write_bytes(b"x")
    (art / "sub").mkdir()
    (art / "sub" / "b.parquet").write_bytes(b"y")
    found = find_files("{artifacts}/**/*.parquet", worktree=tmp_path, artifacts=art)
    assert [p.name for p in found] == ["a.parquet", "b.parquet"]
    outside = tmp_path / "secret.parquet"
    outside.write_bytes(b"s")
    (art / "evil.parquet").symlink_to(outside)
    with pytest.raises(PathEscapeError):
        find_files("{artifacts}/*.parquet", worktree=tmp_path, artifacts=art)
