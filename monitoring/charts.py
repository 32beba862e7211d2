"""Plotly figures for the monitoring pages: plain data in, a `Figure` out.

No Django and no database here, so every chart is tested on lists and dicts. Callers
(monitoring.chart_selectors) fetch and shape the data; the figures only draw it.

Conventions:
- Colours come from the Okabe-Ito palette, which stays distinguishable with the common
  colour-vision deficiencies; meaning never rests on colour alone (markers change shape).
- A `Figure` is the plain data plotly.js draws, serialised by plotly.io without building
  plotly.py's validating object tree (`go.Figure`): building and serialising that tree was
  about 60% of a chart page's server time. No template: plotly.js has none of its own,
  and plotly.py's default adds ~10 kB of styling to every figure's JSON.
- A long history is thinned to at most `MAX_POINTS` points per trace by `thin`, which
  always keeps the points a reader must see (live, candidate, rollbacks, regressions).
  The CSV of a chart carries every point; only the drawing is thinned.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import plotly.io as pio

from monitoring.metric_deltas import MetricDelta, worst_first
from monitoring.validation.metrics import direction_text, worse_by

BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#999999"
OKABE_ITO = [BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY_BLUE, YELLOW, BLACK]
# Sequential scale for effect sizes (none -> strong), from the same palette family.
EFFECT_SCALE = [[0.0, "#f7f7f7"], [0.35, SKY_BLUE], [0.7, BLUE], [1.0, "#1a1a4e"]]

MAX_POINTS = 400
MAX_HEATMAP_CELLS = 20_000


class Figure:
    """A figure as plotly.js takes it: traces and a layout, plain dicts and lists. Read it
    like a `go.Figure` (`figure.layout.xaxis.title.text`, `figure.data[0].x`): dicts as
    attributes (a missing one is None), lists as tuples."""

    def __init__(self, data: list[dict[str, Any]], layout: dict[str, Any]) -> None:
        self._data = data
        self._layout = layout

    @property
    def data(self) -> tuple[Any, ...]:
        return tuple(_read(trace) for trace in self._data)

    @property
    def layout(self) -> Any:
        return _read(self._layout)

    def to_dict(self) -> dict[str, Any]:
        return {"data": self._data, "layout": self._layout}

    def to_json(self) -> str:
        # plotly.io's encoder: NaN and infinities as null, dates and numpy values as plotly
        # does; validate=False skips building the object tree.
        return pio.to_json(self.to_dict(), validate=False)  # type: ignore[no-any-return]


class _Node:
    def __init__(self, value: dict[str, Any]) -> None:
        self._value = value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _read(self._value.get(name))

    def __getitem__(self, key: str) -> Any:
        return _read(self._value[key])


def _read(value: Any) -> Any:
    if isinstance(value, dict):
        return _Node(value)
    if isinstance(value, list | tuple):
        return tuple(_read(item) for item in value)
    return value


@dataclass(frozen=True)
class Chart:
    """A figure with the full table it was drawn from, for the CSV download."""

    name: str
    figure: Figure
    columns: list[str]
    rows: list[list[Any]]

    def figure_json(self) -> str:
        return self.figure.to_json()  # type: ignore[no-any-return]

    def csv(self) -> str:
        return table_csv(self.columns, self.rows)


def table_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        # Spreadsheets run cells that start with = + - @ as formulas; model and column
        # names come from the governed repository, so they are quoted with a '.
        writer.writerow([_csv_cell(value) for value in row])
    return out.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def thin(count: int, *, keep: Iterable[int] = (), limit: int = MAX_POINTS) -> list[int]:
    """Indices of at most `limit` points out of `count`, evenly spread, always with `keep`.

    The first and last points are kept, so the range of the axis does not change. When
    `keep` alone exceeds the limit, the latest of them win (the recent past matters most)
    besides the first.
    """
    if count <= limit:
        return list(range(count))
    must = sorted({i for i in keep if 0 <= i < count} | {0, count - 1})
    if len(must) >= limit:
        return [0, *must[-(limit - 1) :]]
    room = limit - len(must)
    step = count / room
    # `room` spread points plus the kept ones never exceed the limit.
    spread = {min(count - 1, int(i * step)) for i in range(room)}
    return sorted(set(must) | spread)


def _layout(title: str, *, height: int = 360, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 50, "b": 70},
        "font": {"family": "system-ui, sans-serif", "size": 12},
        "hovermode": "closest",
        "legend": {"orientation": "h", "y": -0.25},
        "colorway": OKABE_ITO,
        **extra,
    }


def _axis(title: str, **extra: Any) -> dict[str, Any]:
    return {"title": {"text": title}, **extra}


def _figure(traces: list[dict[str, Any]], layout: dict[str, Any]) -> Figure:
    return Figure(traces, layout)


def _empty(title: str, message: str) -> Figure:
    return _figure(
        [],
        _layout(
            title,
            height=200,
            xaxis={"visible": False},
            yaxis={"visible": False},
            annotations=[
                {
                    "text": message,
                    "showarrow": False,
                    "x": 0.5,
                    "y": 0.5,
                    "xref": "paper",
                    "yref": "paper",
                    "font": {"color": GREY},
                }
            ],
        ),
    )


# -- model health -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseValue:
    """One release's value of one metric (None: the release's run did not report it)."""

    version: str
    value: float | None
    kind: str = "promotion"
    live: bool = False
    rolled_back: bool = False
    candidate: bool = False


def regressions(
    values: Sequence[ReleaseValue],
    *,
    direction: str,
    tolerance: float = 0.0,
    abs_tolerance: float = 0.0,
) -> list[bool]:
    """Whether each value is worse than the previous reported one beyond the tolerance.

    The same rule as the performance check (monitoring.validation.metrics): worse by more
    than max(tolerance * |previous|, abs_tolerance). A candidate is compared with the live
    release, as its check was; an unknown direction flags nothing. A rollback is never a
    regression: it restores a release production already had (the rolled-back release is
    marked instead), and the release after it is compared with what it restored.
    """
    flags = [False] * len(values)
    previous: float | None = None
    live = next((v.value for v in values if v.live), None)
    for i, item in enumerate(values):
        base = live if item.candidate else previous
        if item.value is None or not math.isfinite(item.value):
            continue
        if base is not None and item.kind != "rollback":
            worse = worse_by(direction, item.value, base)
            if worse is None:  # an unknown or informational sense flags nothing
                return flags
            flags[i] = worse > max(tolerance * abs(base), abs_tolerance) + 1e-12
        if not item.candidate:
            previous = item.value
    return flags


def metric_over_releases(
    values: Sequence[ReleaseValue],
    *,
    metric: str,
    direction: str,
    step: int | None = None,
    tolerance: float = 0.0,
    abs_tolerance: float = 0.0,
    subject: str = "",
    limit: int = MAX_POINTS,
    links: dict[str, str] | None = None,
    link_confirm: dict[str, str] | None = None,
) -> Figure:
    """One metric over the releases in semver order (oldest left), candidate last.

    The live release is a star, a candidate a diamond set beside production's value,
    regressions beyond the tolerance are vermillion crosses, rollbacks are annotated.
    `links` maps a version to the page its point opens when clicked (the page's script),
    after the question `link_confirm` holds for that version, if any, is confirmed.
    """
    step_text = "all steps" if step is None else f"step {step}"
    title = f"{metric} · {subject} · {step_text}" if subject else f"{metric} · {step_text}"
    reported = [v for v in values if v.value is not None]
    if not reported:
        return _empty(title, "No release reported this metric.")
    flags = regressions(
        reported, direction=direction, tolerance=tolerance, abs_tolerance=abs_tolerance
    )
    last = max((i for i, v in enumerate(reported) if not v.candidate), default=0)
    keep = [
        i
        for i, v in enumerate(reported)
        if v.live or v.candidate or v.rolled_back or v.kind == "rollback" or flags[i] or i == last
    ]
    shown = thin(len(reported), keep=keep, limit=limit)
    points = [reported[i] for i in shown]
    marks = [flags[i] for i in shown]
    releases = [p for p in points if not p.candidate]
    traces: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    hover = "%{x}<br>" + metric + " = %{y:.6g}<extra>%{text}</extra>"
    traces.append(
        dict(
            type="scatter",
            x=[p.version for p in releases],
            y=[p.value for p in releases],
            mode="lines+markers",
            name="release",
            line={"color": BLUE, "width": 2},
            marker={"size": 6},
            text=[p.kind for p in releases],
            hovertemplate=hover,
        )
    )
    live = [p for p in points if p.live]
    if live:
        traces.append(
            dict(
                type="scatter",
                x=[p.version for p in live],
                y=[p.value for p in live],
                mode="markers",
                name="live on production",
                marker={
                    "symbol": "star",
                    "size": 16,
                    "color": ORANGE,
                    "line": {"color": BLACK, "width": 1},
                },
                text=["live"],
                hovertemplate=hover,
            )
        )
    candidates = [p for p in points if p.candidate]
    if candidates:
        base = live[0].value if live else None
        traces.append(
            dict(
                type="scatter",
                x=[p.version for p in candidates],
                y=[p.value for p in candidates],
                mode="markers",
                name="candidate",
                marker={
                    "symbol": "diamond",
                    "size": 13,
                    "color": GREEN,
                    "line": {"color": BLACK, "width": 1},
                },
                text=["candidate"],
                hovertemplate=hover,
            )
        )
        if base is not None and live:
            # A dotted segment from production to the candidate: the comparison the
            # release managers are about to approve.
            traces.append(
                dict(
                    type="scatter",
                    x=[live[0].version, candidates[-1].version],
                    y=[base, candidates[-1].value],
                    mode="lines",
                    name="candidate vs production",
                    hoverinfo="skip",
                    line={"color": GREEN, "dash": "dot"},
                )
            )
    worse = [(p, m) for p, m in zip(points, marks, strict=True) if m]
    if worse:
        traces.append(
            dict(
                type="scatter",
                x=[p.version for p, _ in worse],
                y=[p.value for p, _ in worse],
                mode="markers",
                name="regression beyond tolerance",
                marker={"symbol": "x", "size": 12, "color": VERMILLION},
                text=["regression"] * len(worse),
                hovertemplate=hover,
            )
        )
    for p in points:
        if p.kind == "rollback":
            annotations.append(
                {
                    "x": p.version,
                    "y": p.value,
                    "text": "rollback",
                    "showarrow": True,
                    "arrowhead": 2,
                    "ay": -30,
                    "font": {"color": VERMILLION},
                }
            )
        elif p.rolled_back:
            annotations.append(
                {
                    "x": p.version,
                    "y": p.value,
                    "text": "rolled back",
                    "showarrow": True,
                    "arrowhead": 2,
                    "ay": 30,
                    "font": {"color": GREY},
                }
            )
    sense = direction_text(direction)
    meta = {"point_links": links, "link_confirm": link_confirm or {}} if links else {}
    return _figure(
        traces,
        _layout(
            title,
            annotations=annotations,
            meta=meta,
            xaxis=_axis(
                "release (semantic version order)",
                type="category",
                categoryorder="array",
                categoryarray=[p.version for p in points],
            ),
            yaxis=_axis(f"{metric} (score, {sense})"),
        ),
    )


@dataclass(frozen=True)
class StepCell:
    """One release's (or the candidate's) value of one metric at one step."""

    release: str  # the column label
    step: int | None
    value: float | None
    live: bool = False
    candidate: bool = False


# Colours of the step heatmap: better than live blue, equal white, worse vermillion.
CHANGE_SCALE = [[0.0, BLUE], [0.5, "#f7f7f7"], [1.0, VERMILLION]]


def step_label(step: int | None) -> str:
    return "all steps" if step is None else f"step {step}"


def step_release_heatmap(
    cells: Sequence[StepCell],
    *,
    metric: str,
    direction: str,
    subject: str = "",
    tolerance: float = 0.0,
    selected: int | None = None,
) -> Figure:
    """Every step (rows) of the newest releases and the candidate (columns), coloured by how
    much worse (vermillion) or better (blue) each value is than the live release's at the
    same step, in percent; ✕ marks a change worse than the tolerance. Clicking a row opens
    that step in detail (the page's script reads `meta.step_link`).

    The colour range is the 95th percentile of the releases' changes (at least twice the
    tolerance): one wild cell, or a wild candidate, does not wash out the rest.
    """
    # Short: three of these sit side by side (the subject is in the page's heading).
    title = f"{metric} · every step vs live"
    if not any(c.value is not None for c in cells):
        return _empty(title, "No release reported this metric.")
    columns = list(dict.fromkeys(c.release for c in cells))
    steps = sorted({c.step for c in cells}, key=lambda s: -1 if s is None else s)
    live = {c.step: c.value for c in cells if c.live and c.value is not None}
    col_at = {name: i for i, name in enumerate(columns)}
    row_at = {step: i for i, step in enumerate(steps)}
    z: list[list[float | None]] = [[None] * len(columns) for _ in steps]
    raw: list[list[float | None]] = [[None] * len(columns) for _ in steps]
    marks_x, marks_y = [], []
    for cell in cells:
        if cell.value is None or not math.isfinite(cell.value):
            continue
        i, j = row_at[cell.step], col_at[cell.release]
        raw[i][j] = cell.value
        base = live.get(cell.step)
        if base is None or base == 0:
            continue
        worse = worse_by(direction, cell.value, base)
        change = (cell.value - base if worse is None else worse) / abs(base)
        z[i][j] = round(100 * change, 3)
        if worse is not None and change > tolerance + 1e-12:
            marks_x.append(cell.release)
            marks_y.append(step_label(cell.step))
    # The releases set the range; a wild candidate saturates instead of washing them out.
    history = {col_at[c.release] for c in cells if not c.candidate}
    spread = sorted(
        abs(v) for row in z for j, v in enumerate(row) if v is not None and j in history
    )
    robust = spread[int(0.95 * (len(spread) - 1))] if spread else 0.0
    zmax = max(robust, 200 * tolerance, 1.0)
    labels = [step_label(step) for step in steps]
    worse_text = "higher" if worse_by(direction, 1.0, 0.0) is None else "worse"
    traces: list[dict[str, Any]] = [
        dict(
            type="heatmap",
            x=columns,
            y=labels,
            z=z,
            zmin=-zmax,
            zmax=zmax,
            zmid=0,
            colorscale=CHANGE_SCALE,
            customdata=[
                [[step if step is not None else "", raw[i][j]] for j in range(len(columns))]
                for i, step in enumerate(steps)
            ],
            hovertemplate="%{x} · %{y}<br>"
            + metric
            + " = %{customdata[1]:.6g}<br>%{z:+.2f}% "
            + worse_text
            + " than live<extra></extra>",
            colorbar={"title": {"text": f"% {worse_text} than live"}},
            xgap=1,
            ygap=1,
        )
    ]
    if marks_x:
        traces.append(
            dict(
                type="scatter",
                x=marks_x,
                y=marks_y,
                mode="markers",
                name="beyond tolerance",
                marker={"symbol": "x-thin-open", "size": 8, "color": BLACK},
                hoverinfo="skip",
            )
        )
    shapes = []
    if selected in row_at:
        shapes.append(
            {
                "type": "rect",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": row_at[selected] - 0.5,
                "y1": row_at[selected] + 0.5,
                "line": {"color": BLACK, "width": 2},
            }
        )
    return _figure(
        traces,
        _layout(
            title,
            height=max(260, 14 * len(steps) + 140),
            margin={"l": 80, "r": 20, "t": 50, "b": 90},
            shapes=shapes,
            showlegend=False,
            meta={"step_link": True},
            xaxis=_axis("release", type="category", tickangle=-45),
            yaxis=_axis("step", type="category", autorange="reversed", categoryarray=labels),
        ),
    )


# -- compare ------------------------------------------------------------------------------


VERDICT_COLOUR = {
    "regressed": VERMILLION,
    "worse": ORANGE,
    "better": BLUE,
    "same": GREY,
    "unknown": GREY,
}
# The bar chart shows the largest changes only; the table and the CSV hold every row.
DELTA_BARS = 40


def delta_label(delta: MetricDelta) -> str:
    step = "all steps" if delta.step is None else f"step {delta.step}"
    return f"{delta.model} · {delta.target} · {delta.metric} · {step}"


def metric_deltas(deltas: Sequence[MetricDelta], *, before: str, after: str) -> Figure:
    """The largest relative changes from `before` to `after`, worst first, coloured by
    verdict (regressed beyond tolerance, worse within it, better)."""
    rows = [d for d in worst_first(deltas) if d.relative is not None]
    shown = rows[:DELTA_BARS]
    title = f"Metric change from {before} to {after}, worst first"
    if len(rows) > len(shown):
        title += f" ({len(shown)} of {len(rows)})"
    if not rows:
        return _empty(title, "No metric was reported by both sides.")
    labels = [delta_label(d) for d in shown]
    traces: list[dict[str, Any]] = []
    for verdict in ("regressed", "worse", "better", "same", "unknown"):
        picked = [i for i, d in enumerate(shown) if d.verdict == verdict]
        if not picked:
            continue
        traces.append(
            dict(
                type="bar",
                y=[labels[i] for i in picked],
                x=[100 * (shown[i].relative or 0) for i in picked],
                orientation="h",
                name=verdict,
                marker={"color": VERDICT_COLOUR[verdict]},
                customdata=[[shown[i].before, shown[i].after] for i in picked],
                hovertemplate="%{y}<br>%{customdata[0]:.6g} → %{customdata[1]:.6g}"
                "<br>%{x:+.2f}%<extra>" + verdict + "</extra>",
            )
        )
    return _figure(
        traces,
        _layout(
            title,
            height=max(260, 22 * len(shown) + 120),
            barmode="overlay",
            margin={"l": 320, "r": 20, "t": 50, "b": 60},
            xaxis=_axis(f"change from {before} (%)", zeroline=True, zerolinecolor=BLACK),
            yaxis=_axis(
                "model · target · metric · step",
                type="category",
                categoryorder="array",
                categoryarray=list(reversed(labels)),
                automargin=True,
            ),
        ),
    )


# -- drift --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriftCell:
    row: str  # "model / column"
    column: str  # the comparison, e.g. "v1.2.0 → candidate #4"
    effect: float | None
    drifted: bool


def drift_heatmap(
    cells: Sequence[DriftCell],
    *,
    rows_label: str = "model / column",
    columns_label: str = "comparison (reference → current)",
) -> Figure:
    """Effect sizes as colour; a drifted verdict is also marked with a cross."""
    title = "Drift effect size by column and comparison"
    if not cells:
        return _empty(title, "No drift results yet.")
    columns = list(dict.fromkeys(c.column for c in cells))
    rows = sorted(dict.fromkeys(c.row for c in cells))
    # Bounded: keep the latest comparisons and as many rows as fit the cell budget.
    max_columns = max(1, min(len(columns), 60))
    columns = columns[-max_columns:]
    rows = rows[: max(1, MAX_HEATMAP_CELLS // len(columns))]
    col_at = {name: i for i, name in enumerate(columns)}
    row_at = {name: i for i, name in enumerate(rows)}
    z: list[list[float | None]] = [[None] * len(columns) for _ in rows]
    marks_x, marks_y = [], []
    for cell in cells:
        if cell.row not in row_at or cell.column not in col_at:
            continue
        z[row_at[cell.row]][col_at[cell.column]] = (
            round(cell.effect, 4) if cell.effect is not None else None
        )
        if cell.drifted:
            marks_x.append(cell.column)
            marks_y.append(cell.row)
    traces: list[dict[str, Any]] = []
    traces.append(
        dict(
            type="heatmap",
            z=z,
            x=columns,
            y=rows,
            colorscale=EFFECT_SCALE,
            zmin=0,
            zmax=robust_zmax(v for row in z for v in row),
            name="effect",
            colorbar={"title": {"text": "effect size<br>(top: 95th pct and above)"}},
            hoverongaps=False,
            hovertemplate="%{y}<br>%{x}<br>effect %{z:.3f}<extra></extra>",
        )
    )
    if marks_x:
        traces.append(
            dict(
                type="scatter",
                x=marks_x,
                y=marks_y,
                mode="markers",
                name="drifted (verdict)",
                marker={
                    "symbol": "x-thin",
                    "size": 11,
                    "line": {"width": 2, "color": VERMILLION},
                    "color": VERMILLION,
                },
                hovertemplate="%{y}<br>%{x}<br>drifted<extra></extra>",
            )
        )
    return _figure(
        traces,
        _layout(
            title,
            height=max(300, 22 * len(rows) + 160),
            margin={"l": 220, "r": 20, "t": 50, "b": 120},
            xaxis=_axis(columns_label, type="category", tickangle=-30),
            yaxis=_axis(rows_label, type="category", automargin=True),
        ),
    )


def distribution_overlay(
    distribution: dict[str, Any],
    *,
    column: str,
    reference_label: str = "reference",
    current_label: str = "current",
) -> Figure:
    """Reference and current histograms over the same bins, as shares of each side."""
    title = f"Distribution of {column}"
    edges = distribution.get("edges") or []
    reference = distribution.get("reference") or []
    current = distribution.get("current") or []
    if len(edges) < 2 or not (reference or current):
        return _empty(title, "The engine stored no histogram for this column.")
    log_scale = distribution.get("scale") == "log1p" and edges[0] >= 0
    # Zero-inflated columns are binned on log1p (monitoring/drift_chart_data.py): drawn on a
    # linear axis those bins crowd into a sliver at zero, so the axis is log1p too, labelled
    # with the original values.
    drawn = [math.log1p(e) for e in edges] if log_scale else list(edges)
    centres = [(a + b) / 2 for a, b in zip(drawn[:-1], drawn[1:], strict=False)]
    widths = [b - a for a, b in zip(drawn[:-1], drawn[1:], strict=False)]
    ranges = [f"{a:.4g}–{b:.4g}" for a, b in zip(edges[:-1], edges[1:], strict=False)]
    traces: list[dict[str, Any]] = []
    for name, counts, colour in (
        (reference_label, reference, BLUE),
        (current_label, current, ORANGE),
    ):
        total = sum(counts) or 1
        traces.append(
            dict(
                type="bar",
                x=centres[: len(counts)],
                y=[c / total for c in counts],
                width=widths[: len(counts)],
                customdata=ranges[: len(counts)],
                name=name,
                opacity=0.55,
                marker={"color": colour, "line": {"width": 0}},
                hovertemplate="%{customdata}<br>share %{y:.3%}<extra>" + name + "</extra>",
            )
        )
    xaxis = _axis(f"{column} (predicted value)")
    if log_scale:
        top = edges[-1]
        ticks = [0.0] + [10.0**k for k in range(0, int(math.log10(top)) + 1 if top >= 1 else 0)]
        xaxis = _axis(
            f"{column} (predicted value, log scale)",
            tickvals=[math.log1p(t) for t in ticks],
            ticktext=[f"{t:,.0f}" for t in ticks],
        )
    return _figure(
        traces,
        _layout(
            title,
            barmode="overlay",
            xaxis=xaxis,
            yaxis=_axis("share of rows per bin", tickformat=".0%"),
        ),
    )


def robust_zmax(values: Iterable[float | None], floor: float = 0.1) -> float:
    """The colour scale's top: the 95th percentile of the values (one extreme cell must not
    wash every other cell out), at least ``floor`` (the drift effect minimum)."""
    finite = sorted(v for v in values if v is not None and math.isfinite(v))
    if not finite:
        return floor
    return max(floor, finite[min(len(finite) - 1, int(0.95 * (len(finite) - 1) + 0.5))])


def draws_heatmap(matrix: dict[str, Any], *, column: str) -> Figure:
    """Wasserstein distance per unit and step for posterior draws; drifted cells crossed."""
    title = f"Draws drift of {column} by unit and step"
    units = [str(u) for u in matrix.get("units") or []]
    steps = matrix.get("steps") or []
    w1 = matrix.get("w1") or []
    if not units or not steps or not w1:
        return _empty(title, "No unit × step matrix stored for this column.")
    drifted = matrix.get("drifted") or []
    marks_x, marks_y = [], []
    for i, row in enumerate(drifted[: len(units)]):
        for j, flag in enumerate(row[: len(steps)]):
            if flag:
                marks_x.append(steps[j])
                marks_y.append(units[i])
    traces: list[dict[str, Any]] = []
    traces.append(
        dict(
            type="heatmap",
            z=w1,
            x=steps,
            y=units,
            colorscale=EFFECT_SCALE,
            zmin=0,
            zmax=robust_zmax(v for row in w1 for v in row),
            name="W1",
            colorbar={"title": {"text": "W1 / sd<br>(top: 95th pct and above)"}},
            hovertemplate="unit %{y}<br>step %{x}<br>W1 %{z:.3f}<extra></extra>",
        )
    )
    if marks_x:
        traces.append(
            dict(
                type="scatter",
                x=marks_x,
                y=marks_y,
                mode="markers",
                name="drifted",
                marker={"symbol": "x-thin", "size": 7, "line": {"width": 1.5, "color": VERMILLION}},
                hoverinfo="skip",
            )
        )
    return _figure(
        traces,
        _layout(
            title,
            height=max(320, 12 * len(units) + 160),
            xaxis=_axis("step ahead (months)", dtick=1 if len(steps) <= 36 else None),
            yaxis=_axis("unit", type="category"),
        ),
    )


def top_units(units: Sequence[dict[str, Any]], *, column: str, count: int = 20) -> Figure:
    """The units whose draws moved most (mean W1 over steps)."""
    title = f"Top {count} units by drift of {column}"
    ranked = sorted(
        (u for u in units if u.get("mean_w1") is not None), key=lambda u: u["mean_w1"], reverse=True
    )[:count]
    if not ranked:
        return _empty(title, "No per-unit results stored.")
    labels = [str(u["unit"]) for u in ranked]
    traces: list[dict[str, Any]] = []
    traces.append(
        dict(
            type="bar",
            y=labels,
            x=[u["mean_w1"] for u in ranked],
            orientation="h",
            name="mean W1",
            marker={"color": BLUE},
            customdata=[u.get("share_drifted") for u in ranked],
            hovertemplate="unit %{y}<br>mean W1 %{x:.3f}<br>steps drifted %{customdata:.0%}"
            "<extra></extra>",
        )
    )
    return _figure(
        traces,
        _layout(
            title,
            height=max(280, 20 * len(ranked) + 120),
            xaxis=_axis("mean W1 over steps (reference sd units)"),
            yaxis=_axis("unit", type="category", autorange="reversed"),
        ),
    )


def month_rollup(steps: Sequence[dict[str, Any]], *, column: str) -> Figure:
    """Mean W1 and the share of units drifted per forecast month."""
    title = f"Draws drift of {column} by forecast month"
    if not steps:
        return _empty(title, "No per-step results stored.")
    x = [str(s.get("month") if s.get("month") is not None else s.get("step")) for s in steps]
    traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "x": x,
            "y": [s.get("mean_w1") for s in steps],
            "name": "mean W1",
            "marker": {"color": BLUE},
            "yaxis": "y",
        },
    ]
    traces.append(
        dict(
            type="scatter",
            x=x,
            y=[s.get("share_drifted") for s in steps],
            name="share of units drifted",
            mode="lines+markers",
            line={"color": VERMILLION},
            marker={"symbol": "square"},
            yaxis="y2",
        )
    )
    return _figure(
        traces,
        _layout(
            title,
            margin={"l": 70, "r": 80, "t": 50, "b": 70},
            xaxis=_axis("forecast month (month_id)", type="category"),
            yaxis=_axis("mean W1 (reference sd units)"),
            yaxis2=_axis(
                "share of units drifted",
                overlaying="y",
                side="right",
                tickformat=".0%",
                range=[0, 1],
            ),
        ),
    )


@dataclass(frozen=True)
class TimelinePoint:
    when: str  # ISO time of the job
    label: str
    drifted: int
    tested: int


@dataclass(frozen=True)
class ReleaseMarker:
    when: str  # ISO time of the tag
    version: str
    kind: str  # promotion, hotfix, rollback, imported


@dataclass
class _Lines:
    x: list[Any] = field(default_factory=list)
    y: list[Any] = field(default_factory=list)
    text: list[Any] = field(default_factory=list)


def drift_timeline(points: Sequence[TimelinePoint], markers: Sequence[ReleaseMarker]) -> Figure:
    """Share of columns drifted per job over time, with releases as vertical lines.

    Vertical lines are one trace of segments separated by gaps rather than layout
    shapes: a thousand shapes make plotly slow and the JSON large.
    """
    title = "Drift verdicts over time"
    if not points:
        return _empty(title, "No finished drift jobs yet.")
    shown = [points[i] for i in thin(len(points))]
    traces: list[dict[str, Any]] = []
    traces.append(
        dict(
            type="scatter",
            x=[p.when for p in shown],
            y=[p.drifted / p.tested if p.tested else 0 for p in shown],
            mode="lines+markers",
            name="share of columns drifted",
            line={"color": BLUE},
            customdata=[[p.label, p.drifted, p.tested] for p in shown],
            hovertemplate="%{customdata[0]}<br>%{customdata[1]} of %{customdata[2]} drifted"
            "<extra></extra>",
        )
    )
    start, end = min(p.when for p in shown), max(p.when for p in shown)
    inside = [m for m in markers if start <= m.when <= end]
    rollbacks = [i for i, m in enumerate(inside) if m.kind == "rollback"]
    inside = [inside[i] for i in thin(len(inside), keep=rollbacks, limit=100)]
    for kind, colour, dash, name in (
        ("rollback", VERMILLION, "dash", "rollback"),
        (None, GREY, "dot", "promotion / hotfix"),
    ):
        lines = _Lines()
        for m in inside:
            if (m.kind == "rollback") != (kind == "rollback"):
                continue
            lines.x += [m.when, m.when, None]
            lines.y += [0, 1, None]
            lines.text += [m.version, m.version, None]
        if lines.x:
            traces.append(
                dict(
                    type="scatter",
                    x=lines.x,
                    y=lines.y,
                    mode="lines",
                    name=name,
                    text=lines.text,
                    line={"color": colour, "dash": dash, "width": 1},
                    hovertemplate="%{text}<extra>" + name + "</extra>",
                )
            )
    return _figure(
        traces,
        _layout(
            title,
            xaxis=_axis("time of the drift job (UTC)", type="date", **_time_range(start, end)),
            yaxis=_axis("columns drifted (share)", tickformat=".0%", range=[0, 1.05]),
        ),
    )


def _time_range(start: str, end: str) -> dict[str, Any]:
    """At least a day on the time axis: one job (or several within minutes) otherwise gets
    an axis in milliseconds. Minutes at most in the ticks' labels."""
    try:
        first, last = datetime.fromisoformat(start), datetime.fromisoformat(end)
    except ValueError:
        return {}
    extra: dict[str, Any] = {"hoverformat": "%Y-%m-%d %H:%M"}
    if last - first < timedelta(days=1):
        middle = first + (last - first) / 2
        extra["range"] = [
            (middle - timedelta(hours=12)).isoformat(),
            (middle + timedelta(hours=12)).isoformat(),
        ]
        extra["tickformat"] = "%H:%M\n%b %d"
    return extra
