"""The manifest fields of issue 17: `secrets`, `network`, and the `external` kind."""

import json

import pytest

from monitoring.validation import Manifest, ManifestError, parse_manifest

COMMAND = """\
[[check]]
name = "fetch"
kind = "command"
run = "python fetch.py"
"""


def test_secrets_and_network_are_read_and_round_trip():
    manifest = parse_manifest(
        COMMAND + 'secrets = ["VIEWSER_TOKEN", "WANDB_API_KEY"]\nnetwork = true\n'
    )

    spec = manifest.check("fetch")
    assert spec.secrets == ("VIEWSER_TOKEN", "WANDB_API_KEY")
    assert spec.network is True
    stored = json.loads(json.dumps(manifest.to_dict()))
    assert stored["check"][0]["secrets"] == ["VIEWSER_TOKEN", "WANDB_API_KEY"]
    assert stored["check"][0]["network"] is True
    assert Manifest.from_dict(stored) == manifest


def test_a_check_without_them_is_stored_as_before():
    stored = parse_manifest(COMMAND).to_dict()["check"][0]
    assert "secrets" not in stored and "network" not in stored


@pytest.mark.parametrize(
    ("extra", "field", "problem"),
    [
        ('secrets = ["viewser"]', "secrets", "invalid secret name 'viewser'"),
        ('secrets = ["PATH"]', "secrets", "PATH is set by ewsdash"),
        ('secrets = ["EWSDASH_CHECK"]', "secrets", "EWSDASH_CHECK is set by ewsdash"),
        ('secrets = ["A_TOKEN", "A_TOKEN"]', "secrets", "a secret is named twice"),
        ('secrets = "A_TOKEN"', "secrets", "expected a list of secret names"),
        ('network = "yes"', "network", "expected true or false"),
    ],
)
def test_bad_secrets_or_network_are_refused(extra, field, problem):
    with pytest.raises(ManifestError) as caught:
        parse_manifest(COMMAND + extra + "\n")
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_secrets_need_a_command():
    text = (
        COMMAND
        + '\n[[check]]\nname = "s"\nkind = "schema"\nfrom = "fetch"\n'
        + 'files = "{artifacts}/*.parquet"\nsecrets = ["A_TOKEN"]\n'
    )
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text)
    assert caught.value.problem == "secrets are handed to a command; this check runs none"


def test_an_external_check_reads_its_fields():
    spec = parse_manifest(
        '[[check]]\nname = "remote"\nkind = "external"\npredictions = "{artifacts}/*.parquet"\n'
        'metrics = "{artifacts}/metrics.json"\ndeadline = "48h"\n'
    ).check("remote")
    assert (spec.predictions, spec.metrics, spec.deadline_s) == (
        "{artifacts}/*.parquet",
        "{artifacts}/metrics.json",
        48 * 3600,
    )
    default = parse_manifest('[[check]]\nname = "remote"\nkind = "external"\n').check("remote")
    assert default.deadline_s == 24 * 3600


@pytest.mark.parametrize(
    ("extra", "field", "problem"),
    [
        ('predictions = "out/*.parquet"', "predictions", "start the pattern with {artifacts}/"),
        ('deadline = "30s"', "deadline", "deadline must be between 1m and 168h"),
        ('deadline = "200h"', "deadline", "deadline must be between 1m and 168h"),
        ('run = "echo"', "run", "unknown field for a external check"),
    ],
)
def test_bad_external_fields_are_refused(extra, field, problem):
    with pytest.raises(ManifestError) as caught:
        parse_manifest(f'[[check]]\nname = "remote"\nkind = "external"\n{extra}\n')
    assert caught.value.field == field
    assert problem in caught.value.problem
