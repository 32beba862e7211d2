"""What keeps the chart pages fast in the browser (issue 13: navigation to load event at
most 300 ms, bench/browser_pages.py): figures are plain data serialised once, never
plotly.py's validating object tree; the pages load plotly.js's cartesian bundle, not the
full one; their figures stay small."""

import json
import re

import plotly.basedatatypes
import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def pages(history) -> dict[str, str]:
    job = history.jobs[0]
    result = job.results.get(column="pred_draws")
    return {
        "model health": reverse("model_health", args=["pipeline"]),
        "model health, one step": reverse("model_health", args=["pipeline"]) + "?step=1",
        "drift charts": reverse("drift_overview", args=["pipeline"]),
        "drift job": reverse("drift_job_charts", args=["pipeline", job.pk]),
        "drift result": reverse("drift_result", args=["pipeline", job.pk, result.pk]),
        "compare": reverse("release_compare", args=["pipeline", "2.0.0", "2.4.0"]),
    }


def figure_bytes(html: str) -> int:
    found = re.findall(
        r'<script type="application/json" id="fig-[\w-]+">(.*?)</script>', html, re.S
    )
    assert found, "no figure on the page"
    for text in found:
        json.loads(text)
    return sum(len(text) for text in found)


def test_chart_pages_never_build_plotly_py_figures(login, history, monkeypatch):
    """Building and serialising go.Figure trees was ~60% of these pages' server time."""

    def refuse(*args, **kwargs):
        raise AssertionError("a chart page built a plotly.py figure object")

    monkeypatch.setattr(plotly.basedatatypes.BaseFigure, "__init__", refuse)
    client = login("analyst")
    for label, url in pages(history).items():
        response = client.get(url)
        assert response.status_code == 200, label
        assert figure_bytes(response.content.decode()) > 0, label


def test_chart_pages_load_the_cartesian_bundle_and_stay_small(login, history):
    client = login("analyst")
    for label, url in pages(history).items():
        html = client.get(url).content.decode()
        assert "vendor/plotly-cartesian/plotly-cartesian.min.js" in html, label
        assert "plotly.min.js" not in html, label
        assert figure_bytes(html) < 60_000, label
