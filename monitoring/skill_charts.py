"""Plotly figures of realized skill and calibration (pure: data in, figure out)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from monitoring.chart_selectors import ReleaseRef
from monitoring.charts import (
    BLACK,
    BLUE,
    GREY,
    ORANGE,
    VERMILLION,
    Chart,
    _axis,
    _figure,
    _layout,
)
from monitoring.skill_selectors import Calibration

GROUP_STYLE = {
    "all": ("all outcomes", BLACK),
    "zero": ("zero outcomes", BLUE),
    "nonzero": ("non-zero outcomes", VERMILLION),
}
METRIC_TITLE = {
    "crps": "CRPS",
    "twcrps": "twCRPS",
    "msle": "MSLE (mean)",
    "brier": "Brier (any fatality)",
    "coverage_90": "coverage of the 90% interval",
}


def _label(release: ReleaseRef) -> str:
    return f"{release.tag or release.version}{' ★' if release.live else ''}"


def realized_by_month(
    rows: list[dict[str, Any]], releases: dict[int, ReleaseRef], metric: str
) -> Chart:
    """One line per release: its realized `metric` month by month, as outcomes arrived."""
    by_release: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_release[row["release_id"]].append(row)
    traces = []
    for pk, mine in by_release.items():
        release = releases[pk]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": _label(release),
                "x": [row["month_id"] for row in mine],
                "y": [row[metric] for row in mine],
                "customdata": [[row["step"], row["cells"]] for row in mine],
                "hovertemplate": "month %{x} (step %{customdata[0]}, %{customdata[1]} cells)"
                f"<br>{METRIC_TITLE[metric]} %{{y:.4g}}<extra>{_label(release)}</extra>",
                "line": {"width": 3 if release.live else 1.5},
            }
        )
    layout = _layout(
        f"Realized {METRIC_TITLE[metric]} by month",
        xaxis=_axis("month_id"),
        yaxis=_axis(METRIC_TITLE[metric]),
    )
    return Chart(
        name=f"skill-{metric.replace('_', '-')}",
        figure=_figure(traces, layout),
        columns=["release", "month_id", "step", "cells", metric],
        rows=[
            [
                releases[row["release_id"]].version,
                row["month_id"],
                row["step"],
                row["cells"],
                row[metric],
            ]
            for row in rows
        ],  # fmt: skip
    )


def pit_histogram(calibration: Calibration) -> Chart:
    """Randomized PIT, as density (1 everywhere is calibrated), per outcome group."""
    bins = len(calibration.pit["all"])
    centres = [(i + 0.5) / bins for i in range(bins)]
    traces, rows = [], []
    for group, (name, colour) in GROUP_STYLE.items():
        total = calibration.cells[group]
        if not total:
            continue
        density = [count * bins / total for count in calibration.pit[group]]
        traces.append(
            {
                "type": "bar",
                "name": f"{name} ({total})",
                "x": centres,
                "y": density,
                "marker": {"color": colour},
                "hovertemplate": "PIT %{x:.2f}: density %{y:.2f}<extra>" + name + "</extra>",
            }
        )
        rows += [
            [group, c, n, d]
            for c, n, d in zip(centres, calibration.pit[group], density, strict=True)
        ]
    layout = _layout(
        f"Randomized PIT of {_label(calibration.release)} ({calibration.months} months)",
        barmode="group",
        xaxis=_axis("PIT", range=[0, 1]),
        yaxis=_axis("density (1 = calibrated)"),
        shapes=[
            {
                "type": "line",
                "x0": 0,
                "x1": 1,
                "y0": 1,
                "y1": 1,
                "line": {"dash": "dash", "color": GREY},
            }
        ],
    )
    return Chart(
        "skill-pit", _figure(traces, layout), ["group", "bin_centre", "count", "density"], rows
    )


def _by_level(calibration: Calibration, key: str, name: str, title: str, axis: str) -> Chart:
    levels = calibration.levels
    traces, rows = [], []
    values = getattr(calibration, key)
    for group, (label, colour) in GROUP_STYLE.items():
        if not calibration.cells[group]:
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": label,
                "x": levels,
                "y": values[group],
                "line": {"color": colour},
            }
        )
        rows += [[group, lv, v] for lv, v in zip(levels, values[group], strict=True)]
    shapes = []
    if key == "coverage":
        shapes = [
            {
                "type": "line",
                "x0": 0,
                "x1": 1,
                "y0": 0,
                "y1": 1,
                "line": {"dash": "dash", "color": GREY},
            }
        ]
    layout = _layout(
        title,
        xaxis=_axis("nominal level of the central interval", range=[0, 1]),
        yaxis=_axis(axis),
        shapes=shapes,
    )
    return Chart(name, _figure(traces, layout), ["group", "level", key], rows)


def coverage_by_level(calibration: Calibration) -> Chart:
    return _by_level(
        calibration,
        "coverage",
        "skill-coverage",
        f"Coverage by level of {_label(calibration.release)} (on the diagonal: calibrated)",
        "share of outcomes inside",
    )


def sharpness_by_level(calibration: Calibration) -> Chart:
    return _by_level(
        calibration,
        "width",
        "skill-sharpness",
        f"Sharpness of {_label(calibration.release)}: mean interval width (narrower is sharper)",
        "mean width",
    )


def coverage_by_step(rows: list[dict[str, Any]], release: ReleaseRef) -> Chart:
    """The release's 50% and 90% coverage at each step (months pooled by their cells)."""
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for row in rows:
        if row["release_id"] != release.pk:
            continue
        entry = sums[row["step"]]
        entry[0] += row["coverage_50"] * row["cells"]
        entry[1] += row["coverage_90"] * row["cells"]
        entry[2] += row["cells"]
    steps = sorted(sums)
    table = [[s, sums[s][0] / sums[s][2], sums[s][1] / sums[s][2], int(sums[s][2])] for s in steps]
    traces = [
        {"type": "scatter", "mode": "lines+markers", "name": "50% interval", "x": steps,
         "y": [r[1] for r in table], "line": {"color": ORANGE}},
        {"type": "scatter", "mode": "lines+markers", "name": "90% interval", "x": steps,
         "y": [r[2] for r in table], "line": {"color": BLUE}},
    ]  # fmt: skip
    nominal = [
        {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": y, "y1": y,
         "line": {"dash": "dash", "color": GREY}}
        for y in (0.5, 0.9)
    ]  # fmt: skip
    layout = _layout(
        f"Coverage by step of {_label(release)} (dashed: nominal)",
        xaxis=_axis("step"),
        yaxis=_axis("share of outcomes inside", range=[0, 1.05]),
        shapes=nominal,
    )
    return Chart(
        "skill-steps",
        _figure(traces, layout),
        ["step", "coverage_50", "coverage_90", "cells"],
        table,
    )
