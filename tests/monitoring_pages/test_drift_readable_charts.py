"""Drift charts an analyst can read (issue 13 item 6): zero-inflated columns on a log axis
labelled in the original values, colour scales that one extreme cell does not saturate."""

import math
from datetime import datetime, timedelta

import numpy as np

from monitoring import charts
from monitoring.drift.numeric import profile_numeric
from monitoring.drift.profile import ColumnProfile
from monitoring.drift_chart_data import distribution


def zero_inflated(seed: int) -> ColumnProfile:
    rng = np.random.default_rng(seed)
    x = rng.lognormal(2.0, 2.0, 50_000)
    x[rng.random(50_000) < 0.6] = 0.0
    return ColumnProfile("numeric", numeric=profile_numeric(x))


def test_a_zero_inflated_column_is_drawn_on_a_labelled_log_axis() -> None:
    dist = distribution(zero_inflated(1), zero_inflated(2))
    assert dist["scale"] == "log1p"
    fig = charts.distribution_overlay(dist, column="pred_ged_sb")
    axis = fig.layout.xaxis
    assert "log scale" in axis.title.text
    assert list(axis.ticktext[:3]) == ["0", "1", "10"]
    assert axis.tickvals[2] == math.log1p(10)
    ref = fig.data[0]
    # every bin is visible: on the drawn axis no bin is a sliver of the whole range
    span = math.log1p(dist["edges"][-1]) - math.log1p(dist["edges"][0])
    assert min(ref.width) > span / 200
    assert ref.customdata[0].startswith("0–")  # hover says the original range


def test_one_extreme_cell_does_not_wash_out_the_heatmap() -> None:
    cells = [
        charts.DriftCell(row=f"m / c{i}", column="v1 → cand", effect=0.05 + 0.01 * i, drifted=False)
        for i in range(40)
    ]
    cells.append(charts.DriftCell(row="m / outlier", column="v1 → cand", effect=25.0, drifted=True))
    heat = charts.drift_heatmap(cells).data[0]
    assert heat.zmax < 1.0  # the scale follows the bulk; the outlier shows at the top colour
    assert heat.zmin == 0
    assert charts.robust_zmax([None, 0.01, 0.02]) == 0.1  # never below the effect minimum


def test_one_drift_job_gets_a_day_on_the_time_axis_not_milliseconds() -> None:
    point = charts.TimelinePoint(
        when="2026-03-01T10:00:00+00:00", label="v1 → c2", drifted=1, tested=4
    )
    axis = charts.drift_timeline([point], []).layout.xaxis
    first, last = (datetime.fromisoformat(x) for x in axis.range)
    assert last - first == timedelta(days=1)
    assert first < datetime.fromisoformat(point.when) < last
    later = charts.TimelinePoint(
        when="2026-05-01T10:00:00+00:00", label="v2 → c3", drifted=0, tested=4
    )
    assert charts.drift_timeline([point, later], []).layout.xaxis.range is None  # plotly's own
