"""Item 5: whatever a check outputs is stored or refused with its reason, on both stacks.

On PostgreSQL a NUL byte in a log, a NaN metric or a step of 10^30 used to fail the
database write; the task was retried 3 times and the check ended "worker stopped
responding", its real reason lost.
"""

from __future__ import annotations

import json

from monitoring.models import ModelMetric
from tests.sandbox.conftest import needs_bwrap, validate_inline
from tests.validation_runs.conftest import toml

pytestmark = [needs_bwrap]


def metrics_check(rows: list[dict]) -> str:
    body = json.dumps(rows).replace("'", "")
    return toml(
        f"""
        [[check]]
        name = "performance"
        kind = "performance"
        run = '''printf '%s' '{body}' > {{artifacts}}/metrics.json'''
        metrics = "{{artifacts}}/metrics.json"
        """
    )


def row(value, step=1, metric="mse"):
    return {"model": "m1", "target": "t", "metric": metric, "step": step, "value": value}


def test_nul_bytes_in_a_log_are_stored_visibly(registered, world, no_enqueue):
    manifest = toml(
        """
        [[check]]
        name = "nul"
        kind = "command"
        run = '''printf 'before\\000after\\n'; echo done'''
        """
    )
    run = validate_inline(registered, world, manifest)
    check = run.checks.get()
    assert check.status == "passed", check.summary
    assert "before\u2400after" in check.log


def test_a_nan_metric_fails_the_check_naming_it(registered, world, no_enqueue):
    manifest = metrics_check([row(0.5), row(float("nan"), step=3)])
    run = validate_inline(registered, world, manifest)
    check = run.checks.get()
    assert check.status == "failed"
    assert "metric value NaN for model m1 target t metric mse step 3" in check.summary
    assert check.claims == 1  # decided once, never retried
    assert list(ModelMetric.objects.filter(check_result=check).values_list("value", flat=True)) == [
        0.5
    ]


def test_infinity_and_a_huge_step_fail_the_check(registered, world, no_enqueue):
    manifest = metrics_check([row(float("inf")), row(0.1, step=10**30, metric="crps")])
    run = validate_inline(registered, world, manifest)
    check = run.checks.get()
    assert check.status == "failed"
    refused = check.details["metrics_refused"]
    assert "metric value inf for model m1 target t metric mse step 1" in refused
    assert "metric step 1e+30 for model m1 target t metric crps is out of range" in refused
    assert not ModelMetric.objects.filter(check_result=check).exists()
