"""The chart pages load plotly.js's cartesian bundle, vendored under static/vendor/: it
must be the plotly.js release plotly.py builds its figures for, and draw every trace type
the figure builders make."""

import re
from pathlib import Path

from plotly.offline import get_plotlyjs_version

from monitoring import charts

BUNDLE = (
    Path(__file__).resolve().parents[1] / "static/vendor/plotly-cartesian/plotly-cartesian.min.js"
)
# The trace types the cartesian bundle registers (plotly.js's lib/index-cartesian.js).
CARTESIAN_TRACES = {
    "scatter", "bar", "box", "heatmap", "histogram", "histogram2d", "histogram2dcontour",
    "contour", "scatterternary", "violin", "image", "pie",
}  # fmt: skip


def test_the_vendored_bundle_is_the_version_plotly_py_builds_for():
    head = BUNDLE.read_text(encoding="utf-8")[:200]
    assert f"plotly.js (cartesian - minified) v{get_plotlyjs_version()}\n" in head


def test_every_trace_the_charts_draw_is_in_the_bundle():
    source = Path(charts.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'\btype="([a-z0-9]+)"', source)) - {"category", "date", "log", "linear"}
    used |= set(re.findall(r'"type": "([a-z0-9]+)"', source)) - {"rect", "line"}
    assert used, "no trace type found in monitoring/charts.py"
    assert used <= CARTESIAN_TRACES
