"""Reads of realized skill for the model-health page: the ledger of one model and target
across releases, and the calibration of one release summed over its scored months."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from monitoring.chart_selectors import ReleaseRef
from monitoring.models import SkillScore
from monitoring.skill.scores import LEVELS
from monitoring.skill.summary import GROUPS, PIT_BINS
from releases.models import Repository

LEDGER_FIELDS = (
    "release_id", "month_id", "step", "cells", "zeros", "crps", "twcrps", "mse", "msle",
    "brier", "coverage_50", "coverage_90", "calibration", "status", "twcrps_threshold",
)  # fmt: skip


@dataclass
class Calibration:
    """One release's calibration over the chosen months: counts summed, means weighted by
    the cells behind them."""

    release: ReleaseRef
    months: int
    pit: dict[str, list[int]]
    coverage: dict[str, list[float | None]]
    width: dict[str, list[float | None]]
    cells: dict[str, int]
    levels: list[float] = field(default_factory=lambda: list(LEVELS))


@dataclass
class SkillPage:
    rows: list[dict[str, Any]]  # ledger rows, by release (semver) then month
    releases: dict[int, ReleaseRef]
    calibration: Calibration | None
    threshold: float | None

    @property
    def scored(self) -> bool:
        return bool(self.rows)


def _calibration(release: ReleaseRef, rows: list[dict[str, Any]]) -> Calibration:
    pit = {g: [0] * PIT_BINS for g in GROUPS}
    cells = {g: 0 for g in GROUPS}
    sums: dict[str, dict[str, list[float]]] = {
        key: {g: [0.0] * len(LEVELS) for g in GROUPS} for key in ("coverage", "width")
    }
    for row in rows:
        summary = row["calibration"]
        for group in GROUPS:
            n = summary["cells"][group]
            cells[group] += n
            pit[group] = [a + b for a, b in zip(pit[group], summary["pit"][group], strict=True)]
            for key in ("coverage", "width"):
                for i, value in enumerate(summary[key][group]):
                    if value is not None:
                        sums[key][group][i] += value * n
    means = {
        key: {g: [(s / cells[g]) if cells[g] else None for s in sums[key][g]] for g in GROUPS}
        for key in sums
    }
    return Calibration(
        release=release,
        months=len(rows),
        pit=pit,
        coverage=means["coverage"],
        width=means["width"],
        cells=cells,
    )


def skill_health(
    *,
    repository: Repository,
    releases: list[ReleaseRef],
    model: str,
    target: str,
    step: int | None,
) -> SkillPage:
    """The ledger of `model` and `target` (one query), and the calibration of the live
    release (else the newest scored one) at `step`, or over every step when None."""
    order = {release.pk: i for i, release in enumerate(releases)}
    by_pk = {release.pk: release for release in releases}
    rows = [
        row
        for row in SkillScore.objects.filter(repository=repository, model=model, target=target)
        .order_by("month_id")
        .values(*LEDGER_FIELDS)
        if row["release_id"] in by_pk
    ]
    rows.sort(key=lambda row: (order[row["release_id"]], row["month_id"]))
    scored = [by_pk[pk] for pk in dict.fromkeys(row["release_id"] for row in rows)]
    chosen = next((r for r in scored if r.live), scored[-1] if scored else None)
    calibration = None
    if chosen is not None:
        mine = [
            row
            for row in rows
            if row["release_id"] == chosen.pk and (step is None or row["step"] == step)
        ]
        if mine:
            calibration = _calibration(chosen, mine)
    return SkillPage(
        rows=rows,
        releases=by_pk,
        calibration=calibration,
        threshold=rows[0]["twcrps_threshold"] if rows else None,
    )
