"""Drift verdicts in an analyst's words (issue 13 item 6): the engine's record is kept in the
title, the page says what it means with the numbers beside it."""

import html

import numpy as np
import pytest
from django.urls import reverse

from monitoring.drift import compare_columns
from monitoring.templatetags.drift_words import plain_verdict

pytestmark = pytest.mark.django_db


def engine_reasons() -> dict[str, str]:
    rng = np.random.default_rng(0)
    n = 200_000
    ref = {"moved": rng.normal(0, 1, n), "tiny": rng.normal(0, 1, n), "same": rng.normal(0, 1, n)}
    cur = {
        "moved": rng.normal(0.5, 1, n),
        "tiny": rng.normal(0.03, 1, n),
        "same": rng.normal(0, 1, n),
    }
    ref["none"], cur["none"] = np.array([np.nan]), np.array([1.0, 2.0])
    report = compare_columns(ref, cur)
    return {name: r["reason"] for name, r in report["columns"].items()}


def test_every_engine_verdict_reads_without_engine_vocabulary() -> None:
    reasons = engine_reasons()
    words = {name: plain_verdict(reason) for name, reason in reasons.items()}
    assert words["moved"].startswith("Changed: shift 0.5 SD (≥ 0.1), PSI")
    assert "not chance (Kolmogorov-Smirnov q = 0)" in words["moved"]
    assert words["tiny"].startswith("Statistically different (Kolmogorov-Smirnov q = ")
    assert "too small to matter: shift 0.03" in words["tiny"]
    assert words["tiny"].endswith("drift needs shift 0.1 SD or PSI 0.1.")
    assert words["same"].startswith("No change beyond chance: Kolmogorov-Smirnov q = ")
    assert words["none"] == "Not tested: production has no values in this column."
    for text in words.values():
        for jargon in ("effect_below_minimum", "significant_and_effect", "BH", "alpha", "_"):
            assert jargon not in text
    assert plain_verdict("something else") == "something else"


def test_the_result_page_shows_the_plain_verdict_and_keeps_the_record(login, history):
    reason = engine_reasons()["tiny"]
    result = history.jobs[0].results.get(model="lr_bright_sky", column="pred_col_0")
    result.reason = reason
    result.save(update_fields=["reason"])
    client = login("analyst")
    page = client.get(reverse("drift_result", args=["pipeline", result.job_id, result.pk]))
    text = html.unescape(page.content.decode())
    assert "too small to matter: shift 0.03" in text
    assert f'title="{reason}"' in text  # the engine's record, on hover
    job_page = client.get(reverse("drift_job_charts", args=["pipeline", result.job_id]))
    assert "too small to matter" in html.unescape(job_page.content.decode())
