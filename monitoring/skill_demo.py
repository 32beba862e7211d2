"""The demo's outcomes, month by month (issue 18): "publish" the next month of the demo
world's synthetic fatalities, so that the ledger, calibration and an alert show in minutes.

The demo pipeline's forecasts (releases/demo_pipeline/template/run_inference.py) are draws
from a seeded synthetic world; its outcomes here are one draw of that world's "truth"
(`simulated_outcomes`, the same function its backtest uses), the month's slice, rounded to
counts. Only the demo repository gets them; analysts and above may publish.
"""

from __future__ import annotations

import runpy
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from django.db.models import Max

from monitoring import skill_ledger
from monitoring.models import Outcome, OutcomeRevision
from releases.access import require_permission
from releases.errors import ActionRefused
from releases.models import Repository

DEMO_REPOSITORY = "views-pipeline"  # releases/management/commands/seed_demo.py
TEMPLATE = Path(__file__).resolve().parent.parent / "releases" / "demo_pipeline" / "template"
TARGET = "lr_ged_sb"
DEMO_PERMISSION = "start_drift_job"  # the analyst role's own action


@cache
def _demo_world() -> dict[str, Any]:
    """The demo pipeline's own functions and constants (read once; it is plain Python)."""
    return runpy.run_path(str(TEMPLATE / "run_inference.py"))


def demo_month_outcomes(month: int) -> list[dict[str, Any]]:
    """Every demo country's observed fatalities in `month` (a forecast month of the demo)."""
    world = _demo_world()
    step = month - world["FIRST_MONTH"]
    if not 0 <= step < world["STEPS"]:
        last = world["FIRST_MONTH"] + world["STEPS"] - 1
        raise ActionRefused(
            f"the demo forecasts months {world['FIRST_MONTH']} to {last}: no month {month}"
        )
    truth = _truth()
    return [
        {"target": TARGET, "unit": int(c), "month_id": month, "value": float(truth[step, c])}
        for c in _countries()
    ]


@cache
def _countries() -> list[int]:
    """Production's unit list: the template's is development's, which still lacks the two
    countries the v1.2.1 hotfix restored (releases/demo_pipeline/history.py)."""
    from releases.demo_pipeline.history import DROP_TWO_COUNTRIES

    text = (TEMPLATE / DROP_TWO_COUNTRIES.path).read_text(encoding="utf-8")
    text = text.replace(DROP_TWO_COUNTRIES.new, DROP_TWO_COUNTRIES.old)
    return sorted(int(line) for line in text.splitlines() if line.strip() and line[0] != "#")


@cache
def _truth() -> np.ndarray:
    # One draw per (month, country) of the demo world's truth, rounded to whole fatalities.
    return np.rint(_demo_world()["simulated_outcomes"]()[:, :, 0])


def demo_next_month(repository: Repository) -> int:
    latest = Outcome.objects.filter(repository=repository, target=TARGET).aggregate(
        latest=Max("month_id")
    )["latest"]
    return int(_demo_world()["FIRST_MONTH"] if latest is None else latest + 1)


def demo_outcomes_publish(*, repository: Repository, actor: Any) -> OutcomeRevision:
    """Record the next month of the demo's outcomes (audited; the ledger is queued)."""
    if not isinstance(actor, str):
        require_permission(actor, DEMO_PERMISSION)
    if repository.name != DEMO_REPOSITORY:
        raise ActionRefused(
            f"synthetic outcomes are for the demo repository ({DEMO_REPOSITORY}) only"
        )
    month = demo_next_month(repository)
    return skill_ledger.outcomes_record(
        repository=repository,
        rows=demo_month_outcomes(month),
        source="demo",
        actor=actor,
        note=f"demo: synthetic outcomes of month {month}",
        permission=DEMO_PERMISSION,
    )
