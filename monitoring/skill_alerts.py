"""Alerts on realized skill: the live release broke a declared floor, or scores
significantly worse than the release it replaced (issue 18).

Run after every ledger update. A problem opens a `skill_degraded` incident per model and
target (releases.incidents: audited, listed on every page) and audits `skill.degraded`,
which notifies (notifications.catalogue). The incident names the better release as its
`previous_commit`, so the incident page pre-selects the rollback to it; a person still
decides (adopt, or roll back through the usual preview and confirmation). Unlike the
origin's incidents, it does not block promotions: the fix may be the next candidate.

Floors come from the live release's manifest (`floors` of its `skill` checks, `beat` zeros
or last): the release's mean realized score over every scored cell must be below the naive
forecast's on the same cells. "Significantly worse" is the skill check's test on the two
releases' CRPS over the months both forecast (at least 3), paired on the units both
forecast: Diebold-Mariano with the HLN correction on the months' mean differences, at
alpha 0.05. When the two scored different numbers of cells in a month (a release that
added or dropped countries), the ledger's monthly means are not comparable, and the cells
both forecast are scored again from the two releases' forecast files.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import transaction

from monitoring import skill_ledger
from monitoring.chart_selectors import ReleaseRef, release_sequence
from monitoring.models import SkillScore, ValidationRun
from monitoring.skill.compare import WORSE, compare_steps
from releases.audit import audit_record
from releases.incidents import incident_open
from releases.models import Incident, IncidentKind, Repository

ALPHA = 0.05
METRICS = {"CRPS": "crps", "twCRPS": "twcrps", "MSE": "mse", "MSLE": "msle", "Brier": "brier"}
MIN_MONTHS = 3


@dataclass(frozen=True)
class Problem:
    model: str
    target: str
    text: str
    better: ReleaseRef | None  # the release to suggest rolling back to


def _floors(run: ValidationRun | None) -> list[dict[str, str]]:
    found = []
    for check in (run.manifest or {}).get("check", []) if run else []:
        if check.get("kind") == "skill":
            for floor in check.get("floors") or []:
                if floor.get("beat") in ("zeros", "last") and floor.get("metric") in METRICS:
                    found.append(floor)
    return found


def _weighted(rows: list[dict[str, Any]], value: Any) -> float | None:
    pairs = [(value(row), row["cells"]) for row in rows]
    pairs = [(v, n) for v, n in pairs if v is not None]
    cells = sum(n for _, n in pairs)
    return sum(v * n for v, n in pairs) / cells if cells else None


def _previous(releases: list[ReleaseRef], live: ReleaseRef) -> ReleaseRef | None:
    """The release the live one replaced: the newest earlier production release with a
    run and another commit (a rollback's restored release counts)."""
    earlier = releases[: releases.index(live)]
    return next(
        (r for r in reversed(earlier) if r.on_production and r.run_id and r.commit != live.commit),
        None,
    )


def skill_problems(*, repository: Repository) -> tuple[ReleaseRef | None, list[Problem]]:
    releases = release_sequence(repository=repository)
    live = next((r for r in releases if r.live), None)
    if live is None:
        return None, []
    previous = _previous(releases, live)
    wanted = [live.pk] + ([previous.pk] if previous else [])
    rows: dict[tuple[int, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in SkillScore.objects.filter(repository=repository, release_id__in=wanted).values(
        "release_id", "model", "target", "month_id", "cells", "crps", "twcrps", "mse", "msle",
        "brier", "baselines", "status",
    ):  # fmt: skip
        rows[(row["release_id"], row["model"], row["target"])].append(dict(row))
    floors = _floors(ValidationRun.objects.filter(pk=live.run_id).first() if live.run_id else None)
    problems: list[Problem] = []
    for (release_pk, model, target), mine in sorted(rows.items()):
        if release_pk != live.pk or mine[0]["status"] not in ("", "deployed"):
            continue
        theirs = rows.get((previous.pk, model, target), []) if previous else []
        for floor in floors:
            metric, beat = METRICS[floor["metric"]], floor["beat"]
            realized = _weighted(mine, lambda r, m=metric: r[m])
            naive = _weighted(mine, lambda r, m=metric, b=beat: r["baselines"].get(b, {}).get(m))
            if realized is not None and naive is not None and not realized < naive:
                problems.append(
                    Problem(
                        model, target,
                        f"{model} · {target}: realized {floor['metric']} {realized:.4g} does not "
                        f"beat {beat} ({naive:.4g}), a floor of the live release's manifest",
                        previous if previous and _beats(theirs, mine, metric) else None,
                    )
                )  # fmt: skip
        worse = (
            _significantly_worse(repository, (live, previous), model, target, mine, theirs)
            if previous is not None
            else ""
        )
        if worse and previous is not None:
            problems.append(Problem(model, target, f"{model} · {target}: {worse}", previous))
    return live, problems


def _beats(theirs: list[dict[str, Any]], mine: list[dict[str, Any]], metric: str) -> bool:
    """Whether the other release scored better on the months both forecast."""
    common = {r["month_id"] for r in theirs} & {r["month_id"] for r in mine}
    a = _weighted([r for r in theirs if r["month_id"] in common], lambda r: r[metric])
    b = _weighted([r for r in mine if r["month_id"] in common], lambda r: r[metric])
    return a is not None and b is not None and a < b


def _significantly_worse(
    repository: Repository,
    pair: tuple[ReleaseRef, ReleaseRef],
    model: str,
    target: str,
    mine: list[dict[str, Any]],
    theirs: list[dict[str, Any]],
) -> str:
    by_month = {r["month_id"]: r for r in theirs}
    common = sorted(r["month_id"] for r in mine if r["month_id"] in by_month)
    if len(common) < MIN_MONTHS:
        return ""
    live = {r["month_id"]: r for r in mine}
    if all(live[m]["cells"] == by_month[m]["cells"] for m in common):
        # As many cells each month: the same units (the ledger keeps no unit list; a
        # release that swaps one country for another would be compared unpaired).
        a = np.array([live[m]["crps"] for m in common])
        b = np.array([by_month[m]["crps"] for m in common])
        months = np.array(common)
    else:
        paired = skill_ledger.paired_crps(
            repository=repository, runs=(pair[0].run_id, pair[1].run_id), model=model,
            target=target, months=common,
        )  # fmt: skip
        if paired is None:
            return ""
        a, b, months = paired
        if len(np.unique(months)) < MIN_MONTHS:
            return ""
    (test,) = compare_steps(a, b, np.ones(len(a), dtype=np.int64), months, alpha=ALPHA)
    if test.verdict != WORSE:
        return ""
    return (
        f"realized CRPS {test.candidate:.4g} against {test.reference:.4g} for the release it "
        f"replaced over {test.months} months on the same units (difference "
        f"{test.difference:.4g}, interval [{test.low:.4g}, {test.high:.4g}], "
        f"p {test.p_value:.2g})"
    )


def skill_alerts_check(*, repository: Repository) -> list[Incident]:
    """Open an incident (audited, notified) for each new problem of the live release."""
    live, problems = skill_problems(repository=repository)
    opened: list[Incident] = []
    if live is None:
        return opened
    with transaction.atomic():
        for problem in problems:
            incident = incident_open(
                repository=repository,
                kind=IncidentKind.SKILL_DEGRADED,
                ref=f"skill/{problem.model}/{problem.target}",
                commit=live.commit,
                previous_commit=problem.better.commit if problem.better else "",
                detail=problem.text,
                actor="ewsdash realized skill",
            )
            if incident is None:
                continue  # open already for this live release, model and target
            audit_record(
                actor="ewsdash realized skill",
                action="skill.degraded",
                obj=incident,
                repository=repository,
                payload={
                    "reason": problem.text,
                    "release": live.version,
                    "suggested_rollback": problem.better.version if problem.better else None,
                },
            )
            opened.append(incident)
    return opened
