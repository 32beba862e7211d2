"""monitoring.charts: data in, figure out (no database)."""

import json

import pytest

from monitoring import charts
from monitoring.charts import DriftCell, MetricDelta, ReleaseMarker, ReleaseValue, TimelinePoint


def history(n: int, *, live: int | None = None, rollback: int | None = None) -> list:
    return [
        ReleaseValue(
            f"1.{i}.0",
            1.0 - 0.001 * i,
            live=i == live,
            kind="rollback" if i == rollback else "promotion",
        )
        for i in range(n)
    ]


def trace(figure, name):
    return next(t for t in figure.data if t.name == name)


def test_it_draws_releases_in_the_given_order_with_direction_in_the_axis_title():
    figure = charts.metric_over_releases(history(3), metric="crps", direction="lower")
    assert list(trace(figure, "release").x) == ["1.0.0", "1.1.0", "1.2.0"]
    assert figure.layout.yaxis.title.text == "crps (score, lower is better)"
    assert figure.layout.xaxis.title.text == "release (semantic version order)"
    assert list(figure.layout.xaxis.categoryarray) == ["1.0.0", "1.1.0", "1.2.0"]
    assert "crps" in figure.layout.title.text and "all steps" in figure.layout.title.text


def test_it_marks_the_live_release_and_puts_the_candidate_beside_it():
    values = [*history(3, live=2), ReleaseValue("1.3.0 (candidate)", 0.5, candidate=True)]
    figure = charts.metric_over_releases(values, metric="crps", direction="lower", step=7)
    assert list(trace(figure, "live on production").x) == ["1.2.0"]
    assert trace(figure, "live on production").marker.symbol == "star"
    assert list(trace(figure, "candidate").x) == ["1.3.0 (candidate)"]
    assert list(trace(figure, "candidate vs production").y) == [0.998, 0.5]
    assert "1.3.0 (candidate)" not in trace(figure, "release").x
    assert "step 7" in figure.layout.title.text


def test_it_annotates_rollbacks_and_rolled_back_releases():
    values = history(4, rollback=3)
    values[2] = ReleaseValue("1.2.0", 0.9, rolled_back=True)
    figure = charts.metric_over_releases(values, metric="mse", direction="lower")
    texts = {a.x: a.text for a in figure.layout.annotations}
    assert texts == {"1.3.0": "rollback", "1.2.0": "rolled back"}


def test_it_highlights_regressions_beyond_the_tolerance_only():
    values = [
        ReleaseValue("1.0.0", 1.0),
        ReleaseValue("1.1.0", 1.04),
        ReleaseValue("1.2.0", 1.2),
        ReleaseValue("1.3.0", 1.0),
    ]
    figure = charts.metric_over_releases(values, metric="crps", direction="lower", tolerance=0.05)
    assert list(trace(figure, "regression beyond tolerance").x) == ["1.2.0"]


def test_regressions_follow_the_direction_and_compare_a_candidate_with_production():
    values = [
        ReleaseValue("1.0.0", 0.8),
        ReleaseValue("1.1.0", 0.7, live=True),
        ReleaseValue("c", 0.6, candidate=True),
    ]
    assert charts.regressions(values, direction="higher") == [False, True, True]
    assert charts.regressions(values, direction="lower") == [False, False, False]
    assert charts.regressions(values, direction="") == [False, False, False]
    assert charts.regressions(values, direction="higher", abs_tolerance=0.2) == [False] * 3


def test_it_thins_a_long_history_but_keeps_live_candidate_and_rollbacks():
    values = [
        *history(5000, live=4321, rollback=17),
        ReleaseValue("9.0.0 (candidate)", 2.0, candidate=True),
    ]
    figure = charts.metric_over_releases(values, metric="crps", direction="lower", limit=300)
    shown = list(trace(figure, "release").x)
    assert len(shown) + 1 <= 300
    assert {"1.0.0", "1.17.0", "1.4321.0", "1.4999.0"} <= set(shown)
    assert list(trace(figure, "candidate").x) == ["9.0.0 (candidate)"]
    assert len(figure.to_json()) < 100_000


def test_thin_never_exceeds_the_limit_and_keeps_the_ends():
    for count, keep in ((10, []), (1000, []), (1000, range(0, 1000, 2)), (50_000, [3, 7])):
        picked = charts.thin(count, keep=keep, limit=200)
        assert len(picked) <= 200 and picked == sorted(set(picked))
        assert picked[0] == 0 and picked[-1] == count - 1
    assert charts.thin(5) == [0, 1, 2, 3, 4]


def test_a_metric_nobody_reported_gives_an_empty_figure_with_a_message():
    figure = charts.metric_over_releases(
        [ReleaseValue("1.0.0", None)], metric="crps", direction="lower"
    )
    assert figure.data == ()
    assert "No release reported" in figure.layout.annotations[0].text


def test_it_uses_the_okabe_ito_palette_and_no_template():
    figure = charts.metric_over_releases(history(2, live=1), metric="crps", direction="lower")
    assert list(figure.layout.colorway) == charts.OKABE_ITO
    assert trace(figure, "release").line.color == charts.BLUE
    # plotly.js draws without a template of its own; plotly.py's default would add ~10 kB.
    assert "template" not in json.loads(figure.to_json())["layout"]


def test_metric_deltas_colour_by_direction():
    deltas = [
        MetricDelta("m", "t", "crps", 1.0, 0.9, "lower"),
        MetricDelta("m", "t", "coverage", 0.9, 0.8, "higher", tolerance=0.2),
        MetricDelta("m", "t", "odd", 1.0, 2.0, ""),
    ]
    assert [d.verdict for d in deltas] == ["better", "worse", "unknown"]
    figure = charts.metric_deltas(deltas, before="v1", after="v2")
    assert trace(figure, "better").marker.color == charts.BLUE
    assert trace(figure, "worse").marker.color == charts.ORANGE
    assert list(trace(figure, "worse").x) == [pytest.approx(-100 * 0.1 / 0.9)]
    assert figure.layout.xaxis.title.text == "change from v1 (%)"


def test_drift_heatmap_colours_by_effect_and_crosses_drifted_cells():
    cells = [
        DriftCell("m / a", "job 1", 0.4, True),
        DriftCell("m / b", "job 1", 0.01, False),
        DriftCell("m / a", "job 2", 0.05, False),
    ]
    figure = charts.drift_heatmap(cells)
    heat = figure.data[0]
    assert list(heat.x) == ["job 1", "job 2"] and list(heat.y) == ["m / a", "m / b"]
    assert [list(r) for r in heat.z] == [[0.4, 0.05], [0.01, None]]
    marks = trace(figure, "drifted (verdict)")
    assert list(zip(marks.x, marks.y, strict=True)) == [("job 1", "m / a")]


def test_drift_heatmap_stays_within_its_cell_budget():
    cells = [DriftCell(f"r{r}", f"c{c}", 0.1, False) for r in range(2000) for c in range(100)]
    heat = charts.drift_heatmap(cells).data[0]
    assert len(heat.x) == 60 and len(heat.x) * len(heat.y) <= charts.MAX_HEATMAP_CELLS


def test_distribution_overlay_draws_both_sides_as_shares_over_the_same_bins():
    figure = charts.distribution_overlay(
        {"edges": [0, 1, 2], "reference": [1, 3], "current": [2, 2]},
        column="pred_x",
        reference_label="v1",
        current_label="v2",
    )
    ref, cur = figure.data
    assert (ref.name, cur.name) == ("v1", "v2")
    assert list(ref.x) == [0.5, 1.5] and list(ref.y) == [0.25, 0.75] and list(cur.y) == [0.5, 0.5]
    assert figure.layout.barmode == "overlay"
    assert figure.layout.xaxis.title.text == "pred_x (predicted value)"


def test_draws_views_show_units_by_steps_top_units_and_months():
    matrix = {
        "units": [1, 2],
        "steps": [1, 2],
        "w1": [[0.1, 0.5], [0.2, 0.3]],
        "drifted": [[False, True], [False, False]],
    }
    heat = charts.draws_heatmap(matrix, column="pred_d")
    assert list(heat.data[0].y) == ["1", "2"]
    assert list(zip(heat.data[1].x, heat.data[1].y, strict=True)) == [(2, "1")]
    top = charts.top_units(
        [{"unit": 1, "mean_w1": 0.1}, {"unit": 2, "mean_w1": 0.9}], column="pred_d", count=1
    )
    assert list(top.data[0].y) == ["2"]
    months = charts.month_rollup(
        [{"step": 1, "month": 541, "mean_w1": 0.2, "share_drifted": 0.5}], column="pred_d"
    )
    assert list(months.data[0].x) == ["541"] and months.data[1].yaxis == "y2"
    assert months.layout.xaxis.title.text == "forecast month (month_id)"


def test_drift_timeline_draws_releases_as_vertical_segments_in_range():
    points = [
        TimelinePoint("2026-01-02T00:00:00", "a", 1, 4),
        TimelinePoint("2026-01-09T00:00:00", "b", 0, 4),
    ]
    markers = [
        ReleaseMarker("2025-12-01T00:00:00", "0.9.0", "promotion"),
        ReleaseMarker("2026-01-03T00:00:00", "1.0.0", "promotion"),
        ReleaseMarker("2026-01-05T00:00:00", "1.0.1", "rollback"),
    ]
    figure = charts.drift_timeline(points, markers)
    assert list(figure.data[0].y) == [0.25, 0.0]
    assert list(trace(figure, "rollback").x) == ["2026-01-05T00:00:00"] * 2 + [None]
    assert list(trace(figure, "promotion / hotfix").text)[:2] == ["1.0.0", "1.0.0"]
    assert figure.layout.xaxis.type == "date"


def test_chart_csv_has_every_row_and_defuses_formulas():
    chart = charts.Chart(
        name="x",
        figure=charts.drift_heatmap([]),
        columns=["a", "b"],
        rows=[["=cmd()", 1.5], ["-1", None]],
    )
    assert chart.csv() == "a,b\n'=cmd(),1.5\n-1,\n"


def test_version_key_sorts_like_semver_precedence():
    from semver import Version

    from monitoring.chart_selectors import version_key

    versions = [
        "1.0.0",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "2.0.0",
        "1.10.0",
        "1.2.0",
    ]
    expected = sorted(versions, key=Version.parse)
    assert sorted(versions, key=version_key) == expected
    assert sorted(["x", "1.0.0"], key=version_key) == ["x", "1.0.0"]


def test_deltas_beyond_the_tolerance_are_regressions_listed_worst_first():
    deltas = [
        MetricDelta("m", "t", "crps", 1.0, 1.04, "lower", step=1, tolerance=0.05),  # within
        MetricDelta("m", "t", "crps", 1.0, 1.2, "lower", step=2, tolerance=0.05),
        MetricDelta("m", "t", "mse", 2.0, 1.0, "lower", step=1, tolerance=0.05),
        MetricDelta("m", "t", "coverage", 0.8, 0.5, "higher", step=3, tolerance=0.05),
        MetricDelta("m", "t", "odd", 1.0, 9.0, "", step=1),
    ]
    ordered = charts.worst_first(deltas)
    assert [(d.metric, d.step, d.verdict) for d in ordered] == [
        ("coverage", 3, "regressed"),  # 37.5 % worse
        ("crps", 2, "regressed"),  # 20 % worse
        ("crps", 1, "worse"),  # 4 % worse, within 5 %
        ("mse", 1, "better"),
        ("odd", 1, "unknown"),
    ]
    assert ordered[1].allowed == pytest.approx(0.05)
    figure = charts.metric_deltas(deltas, before="v1", after="v2")
    assert trace(figure, "regressed").marker.color == charts.VERMILLION
    assert list(trace(figure, "regressed").y) == [
        "m · t · coverage · step 3",
        "m · t · crps · step 2",
    ]


def test_target_metrics_are_judged_by_their_distance_to_the_target():
    values = [
        ReleaseValue("1.0.0", 0.95),
        ReleaseValue("1.1.0", 0.92),  # closer to 0.9
        ReleaseValue("1.2.0", 0.86),  # farther: 0.04 against 0.02
    ]
    assert charts.regressions(values, direction="target=0.9") == [False, False, True]
    assert charts.regressions(values, direction="none") == [False, False, False]
    assert MetricDelta("m", "t", "Coverage", 0.95, 0.92, "target=0.9").verdict == "better"
    assert MetricDelta("m", "t", "MCR_point", 0.9, 1.1, "target=1").verdict == "same"
    # Farther from the target, and the default tolerance is none: a regression.
    assert MetricDelta("m", "t", "MCR_point", 1.05, 1.3, "target=1").verdict == "regressed"
    assert MetricDelta("m", "t", "y_hat_bar", 1.0, 2.0, "none").verdict == "unknown"
