"""The analyst pages: model health, compare, drift. Reads come from chart_selectors,
figures from charts; these functions only pair them and pick a template.

Every chart page answers `?format=csv&chart=<name>` with that chart's full data.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.views.decorators.http import require_POST, require_safe

from monitoring import chart_selectors as selectors
from monitoring import charts, skill_charts, skill_demo, skill_selectors
from monitoring.charts import Chart, DriftCell, ReleaseValue
from monitoring.code_changes import code_changes
from monitoring.models import DriftJob, DriftResult
from monitoring.validation.metrics import direction_text
from releases.access import access_repository
from releases.candidate_selectors import decision_bar
from releases.errors import ActionRefused

# Django's json_script escapes these so that a string in the data (a model name from
# the governed repository) cannot close the <script> element it is embedded in.
_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


def _figure_json(chart: Chart) -> SafeString:
    return mark_safe(chart.figure_json().translate(_JSON_ESCAPES))  # noqa: S308


def _chart_page(
    request: HttpRequest, template: str, context: dict[str, Any], chart_list: list[Chart]
) -> HttpResponse:
    """Render the page, or one chart's CSV when the query asks for it."""
    if request.GET.get("format") == "csv":
        wanted = request.GET.get("chart", "")
        chart = next((c for c in chart_list if c.name == wanted), None)
        if chart is None:
            raise Http404(f"No chart {wanted!r} on this page")
        response = HttpResponse(chart.csv(), content_type="text/csv; charset=utf-8")
        filename = f"{context['repository'].name}-{chart.name}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    shown = []
    for chart in chart_list:
        query = request.GET.copy()
        query["format"], query["chart"] = "csv", chart.name
        shown.append(
            {"name": chart.name, "json": _figure_json(chart), "csv_url": f"?{query.urlencode()}"}
        )
    return render(request, template, {**context, "charts": shown, "plotly": bool(shown)})


# The table under the charts shows the newest releases only: rendering a thousand rows
# costs more than the rest of the page. The CSV of each chart holds every release.
TABLE_ROWS = 100
# Same for the releases listed in a comparison's changelog.
CHANGELOG_RELEASES = 50


def _step(request: HttpRequest) -> int | None:
    # ASCII digits only ("²".isdigit() is true) and short enough for any integer column.
    text = request.GET.get("step", "")
    return int(text) if re.fullmatch(r"-?[0-9]{1,6}", text) else None


@require_POST
def skill_demo_publish(request: HttpRequest, name: str) -> HttpResponse:
    """The demo's next month of synthetic outcomes; the ledger is scored on a worker."""
    repository = access_repository(request, name, action=skill_demo.DEMO_PERMISSION)
    try:
        revision = skill_demo.demo_outcomes_publish(repository=repository, actor=request.user)
    except ActionRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            f"Published {revision.rows} outcomes ({revision.note.removeprefix('demo: ')}); "
            "the ledger is being scored.",
        )
    return redirect(reverse("model_health", args=[repository.name]) + "#realized-skill")


@require_safe
def model_health(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name)
    # One select names both as "model|target"; split at the last "|" because targets are
    # metric column names, which have none. An unknown pair falls back to the first.
    model, _, target = request.GET.get("subject", "").rpartition("|")
    page = selectors.model_health(
        repository=repository,
        model=model,
        target=target,
        step=_step(request),
        step_chosen="step" in request.GET,
    )
    may_roll_back = request.user.has_perm("releases.rollback_release")
    chart_list, table = _health_charts(page, _point_links(repository.name, page, may_roll_back))
    heatmaps = _step_heatmaps(page)
    skill = skill_selectors.skill_health(
        repository=repository,
        releases=page.releases,
        model=page.model,
        target=page.target,
        step=page.step,
    )
    skill_list = _skill_charts(skill)
    headers = [(m, direction_text(page.directions.get(m, ""))) for m in page.metrics]
    bar = decision_bar(candidate=page.candidate, repository=repository, user=request.user)
    compare_url = ""
    if page.candidate is not None and page.live is not None:
        compare_url = reverse(
            "candidate_compare", args=[repository.name, page.live.version, page.candidate.pk]
        )
    return _chart_page(
        request,
        "monitoring/health.html",
        {
            "repository": repository,
            "page": page,
            "table": table,
            "headers": headers,
            "compare_url": compare_url,
            "table_cut": len(page.releases) + bool(page.candidate) - len(table),
            "heatmap_names": [chart.name for chart in heatmaps],
            "skill": skill,
            "demo_outcomes": repository.name == skill_demo.DEMO_REPOSITORY
            and request.user.has_perm(f"releases.{skill_demo.DEMO_PERMISSION}"),
            "skill_names": [chart.name for chart in skill_list],
            "bar": bar,
            "may_roll_back": may_roll_back,
        },
        heatmaps + chart_list + skill_list,
    )


def _skill_charts(skill: skill_selectors.SkillPage) -> list[Chart]:
    """Realized skill across releases, and the calibration of the live release."""
    if not skill.scored:
        return []
    found = [
        skill_charts.realized_by_month(skill.rows, skill.releases, metric)
        for metric in ("crps", "twcrps", "msle", "brier")
    ]
    if skill.calibration is not None:
        found += [
            skill_charts.pit_histogram(skill.calibration),
            skill_charts.coverage_by_level(skill.calibration),
            skill_charts.sharpness_by_level(skill.calibration),
            skill_charts.coverage_by_step(skill.rows, skill.calibration.release),
        ]
    return found


def _step_heatmaps(page: selectors.HealthPage) -> list[Chart]:
    """One step x release heatmap per metric: every step at a glance, against live."""
    columns: list[tuple[str, int | None, bool, bool]] = [
        (r.version, r.run_id, r.live, False) for r in page.heat_releases
    ]
    if page.candidate is not None:
        label = f"{page.candidate.version} (candidate)"
        columns.append((label, page.candidate_run_id, False, True))
    steps = sorted({step for _, _, step in page.step_values}, key=lambda s: -1 if s is None else s)
    chart_list: list[Chart] = []
    for metric in page.metrics:
        cells = [
            charts.StepCell(
                label, step, page.step_value(run_id, metric, step), live=is_live, candidate=cand
            )
            for label, run_id, is_live, cand in columns
            for step in steps
        ]
        figure = charts.step_release_heatmap(
            cells,
            metric=metric,
            direction=page.directions.get(metric, ""),
            subject=f"{page.model} · {page.target}",
            tolerance=page.tolerance,
            selected=page.step,
        )
        base = {c.step: c.value for c in cells if c.live}
        chart_list.append(
            Chart(
                name=f"steps-{slugify(metric) or 'x'}-{len(chart_list)}",
                figure=figure,
                columns=["release", "live", "candidate", "step", "metric", "value", "live_value"],
                rows=[
                    [c.release, c.live, c.candidate, c.step, metric, c.value, base.get(c.step)]
                    for c in cells
                ],
            )
        )
    return chart_list


def _point_links(
    name: str, page: selectors.HealthPage, may_roll_back: bool
) -> tuple[dict[str, str], dict[str, str]]:
    """Where each release's point leads, and the question asked first: for admins the
    rollback preview of a release production had and no longer runs; otherwise the
    release's page."""
    # Two reverse() calls, not two per release: a thousand reverses cost ~40 ms a page.
    rollback = reverse("rollback_preview", args=[name, "0.0.0"]).replace("0.0.0", "{v}", 1)
    detail = reverse("release_detail", args=[name, "0.0.0"]).replace("0.0.0", "{v}", 1)
    links, confirm = {}, {}
    for r in page.releases:
        if may_roll_back and r.on_production and not r.live:
            links[r.version] = rollback.format(v=r.version)
            confirm[r.version] = (
                f"Roll production back to {r.tag or r.version}? The rollback preview shows "
                "what changes; nothing happens until you confirm there."
            )
        else:
            links[r.version] = detail.format(v=r.version)
    return links, confirm


def _health_charts(
    page: selectors.HealthPage, links: tuple[dict[str, str], dict[str, str]] = ({}, {})
) -> tuple[list[Chart], list[dict[str, Any]]]:
    """One chart per metric, and the table of the same numbers (newest release first)."""
    candidate = page.candidate
    rows: list[dict[str, Any]] = [
        {"label": r.version, "release": r, "candidate": False, "cells": []} for r in page.releases
    ]
    if candidate is not None:
        rows.append(
            {
                "label": f"{candidate.version} (candidate)",
                "release": None,
                "candidate": True,
                "cells": [],
            }
        )
    chart_list: list[Chart] = []
    for metric in page.metrics:
        values = [
            ReleaseValue(
                r.version,
                page.value(r.run_id, metric),
                kind=r.kind,
                live=r.live,
                rolled_back=r.rolled_back,
            )
            for r in page.releases
        ]
        if candidate is not None:
            values.append(
                ReleaseValue(
                    rows[-1]["label"], page.value(page.candidate_run_id, metric), candidate=True
                )
            )
        direction = page.directions.get(metric, "")
        flags = charts.regressions(
            values, direction=direction, tolerance=page.tolerance, abs_tolerance=page.abs_tolerance
        )
        for row, value, flag in zip(rows, values, flags, strict=True):
            row["cells"].append({"value": value.value, "regressed": flag})
        figure = charts.metric_over_releases(
            values,
            metric=metric,
            direction=direction,
            step=page.step,
            tolerance=page.tolerance,
            abs_tolerance=page.abs_tolerance,
            subject=f"{page.model} · {page.target}",
            links=links[0],
            link_confirm=links[1],
        )
        chart_list.append(
            Chart(
                name=f"metric-{slugify(metric) or 'x'}-{len(chart_list)}",
                figure=figure,
                columns=[
                    "release",
                    "kind",
                    "live",
                    "candidate",
                    "rolled_back",
                    "model",
                    "target",
                    "step",
                    "metric",
                    "value",
                    "direction",
                    "regression",
                ],
                rows=[
                    [
                        v.version,
                        v.kind if not v.candidate else "candidate",
                        v.live,
                        v.candidate,
                        v.rolled_back,
                        page.model,
                        page.target,
                        page.step,
                        metric,
                        v.value,
                        direction,
                        flag,
                    ]
                    for v, flag in zip(values, flags, strict=True)
                ],
            )
        )
    rows.reverse()
    return chart_list, rows[:TABLE_ROWS]


# The regressions table shows this many rows; the CSV holds every delta.
DELTA_ROWS = 50


@require_safe
def release_compare(request: HttpRequest, name: str, before: str, after: str) -> HttpResponse:
    repository = access_repository(request, name)
    page = selectors.release_compare(repository=repository, before=before, after=after)
    deltas = page.deltas
    figure = charts.metric_deltas(deltas, before=page.before.label, after=page.after.label)
    chart = Chart(
        name="deltas",
        figure=figure,
        columns=[
            "model",
            "target",
            "metric",
            "step",
            page.before.label,
            page.after.label,
            "change",
            "relative_change",
            "direction",
            "allowed_change",
            "verdict",
        ],
        rows=[
            [
                d.model,
                d.target,
                d.metric,
                d.step,
                d.before,
                d.after,
                d.change,
                d.relative,
                d.direction,
                d.allowed,
                d.verdict,
            ]
            for d in deltas
        ],
    )
    return _chart_page(
        request,
        "monitoring/compare.html",
        {
            "repository": repository,
            "page": page,
            "deltas": deltas[:DELTA_ROWS],
            "deltas_cut": max(0, len(deltas) - DELTA_ROWS),
            "regressions": len(page.regressions),
            "changes": code_changes(
                repository=repository, base=page.before.commit, tip=page.after.commit
            ),
            "sides": [page.before, page.after],
            "bar": decision_bar(
                candidate=page.after.candidate or page.before.candidate,
                repository=repository,
                user=request.user,
            ),
            "may_roll_back": request.user.has_perm("releases.rollback_release"),
            "changelog": page.changelog[:CHANGELOG_RELEASES],
            "changelog_cut": max(0, len(page.changelog) - CHANGELOG_RELEASES),
        },
        [chart],
    )


@require_safe
def candidate_compare(request: HttpRequest, name: str, before: str, pk: int) -> HttpResponse:
    """A release against an open candidate: the "compare with production" link."""
    return release_compare(request, name, before, f"candidate-{pk}")


def _job_label(job: DriftJob) -> str:
    return f"#{job.pk} {job.reference_label} → {job.current_label}"


@require_safe
def drift_overview(request: HttpRequest, name: str) -> HttpResponse:
    repository = access_repository(request, name)
    view = selectors.drift_overview(repository=repository)
    chart_list, counts = _drift_overview_charts(view)
    return _chart_page(
        request,
        "monitoring/drift.html",
        {
            "repository": repository,
            "jobs": view.jobs,
            "job_rows": [(job, *counts[job.pk]) for job in view.jobs],
        },
        chart_list,
    )


def _drift_overview_charts(
    view: selectors.DriftOverview,
) -> tuple[list[Chart], dict[int, list[int]]]:
    """The heatmap (comparisons left to right from the oldest shown) and the timeline."""
    labels = {job.pk: _job_label(job) for job in view.jobs}
    oldest_first = list(reversed(view.jobs))
    order = {labels[job.pk]: i for i, job in enumerate(oldest_first)}
    cells = sorted(
        (
            DriftCell(f"{model or '(file)'} / {column}", labels[job_id], effect, drifted)
            for job_id, model, column, effect, drifted in view.cells
        ),
        key=lambda c: order[c.column],
    )
    counts: dict[int, list[int]] = {job.pk: [0, 0] for job in view.jobs}
    for job_id, _, _, _, drifted in view.cells:
        counts[job_id][0] += int(drifted)
        counts[job_id][1] += 1
    points = [
        charts.TimelinePoint(job.created_at.isoformat(), labels[job.pk], *counts[job.pk])
        for job in oldest_first
    ]
    markers = sorted(
        (
            charts.ReleaseMarker(r.tagged_at.isoformat(), r.version, r.kind)
            for r in view.markers
            if r.tagged_at is not None
        ),
        key=lambda m: m.when,
    )
    chart_list = [
        Chart(
            name="heatmap",
            figure=charts.drift_heatmap(cells),
            columns=["comparison", "model_column", "effect", "drifted"],
            rows=[[c.column, c.row, c.effect, c.drifted] for c in cells],
        ),
        Chart(
            name="timeline",
            figure=charts.drift_timeline(points, markers),
            columns=["time", "comparison", "drifted", "tested"],
            rows=[[p.when, p.label, p.drifted, p.tested] for p in points],
        ),
    ]
    return chart_list, counts


@require_safe
def drift_job_charts(request: HttpRequest, name: str, job_id: int) -> HttpResponse:
    repository = access_repository(request, name)
    job, results = selectors.drift_job(repository=repository, job_id=job_id)
    cells = [DriftCell(r.model or "(file)", r.column, r.effect, r.drifted) for r in results]
    figure = charts.drift_heatmap(cells, rows_label="model", columns_label="column")
    chart = Chart(
        name="heatmap",
        figure=figure,
        columns=[
            "model",
            "column",
            "kind",
            "status",
            "n_reference",
            "n_current",
            "ks_statistic",
            "ks_p_value",
            "q_value",
            "wasserstein_normed",
            "psi",
            "jensen_shannon",
            "effect",
            "drifted",
            "reason",
        ],
        rows=[
            [
                r.model,
                r.column,
                r.kind,
                r.status,
                r.n_reference,
                r.n_current,
                r.ks_statistic,
                r.ks_p_value,
                r.q_value,
                r.wasserstein_normed,
                r.psi,
                r.jensen_shannon,
                r.effect,
                r.drifted,
                r.reason,
            ]
            for r in results
        ],
    )
    return _chart_page(
        request,
        "monitoring/drift_job.html",
        {"repository": repository, "job": job, "results": results},
        [chart],
    )


@require_safe
def drift_result(request: HttpRequest, name: str, job_id: int, result_id: int) -> HttpResponse:
    repository = access_repository(request, name)
    result = selectors.drift_result(repository=repository, job_id=job_id, result_id=result_id)
    return _chart_page(
        request,
        "monitoring/drift_result.html",
        {"repository": repository, "result": result, "job": result.job},
        _result_charts(result),
    )


def _result_charts(result: DriftResult) -> list[Chart]:
    job = result.job
    dist = result.distribution or {}
    edges = dist.get("edges") or []
    ref, cur = dist.get("reference") or [], dist.get("current") or []
    chart_list = [
        Chart(
            name="distribution",
            figure=charts.distribution_overlay(
                dist,
                column=result.column,
                reference_label=job.reference_label,
                current_label=job.current_label,
            ),
            columns=["bin_low", "bin_high", "reference_count", "current_count"],
            rows=[
                [
                    edges[i],
                    edges[i + 1],
                    ref[i] if i < len(ref) else None,
                    cur[i] if i < len(cur) else None,
                ]
                for i in range(max(0, len(edges) - 1))
            ],
        )
    ]
    cells = result.cells or {}
    if result.kind != "draws" or not cells:
        return chart_list
    matrix = cells.get("matrix") or {}
    units, steps = matrix.get("units") or [], matrix.get("steps") or []
    w1, drifted = matrix.get("w1") or [], matrix.get("drifted") or []
    chart_list += [
        Chart(
            name="units-steps",
            figure=charts.draws_heatmap(matrix, column=result.column),
            columns=["unit", "step", "w1", "drifted"],
            rows=[
                [
                    unit,
                    step,
                    w1[i][j] if i < len(w1) and j < len(w1[i]) else None,
                    bool(drifted[i][j]) if i < len(drifted) and j < len(drifted[i]) else None,
                ]
                for i, unit in enumerate(units)
                for j, step in enumerate(steps)
            ],
        ),
        Chart(
            name="top-units",
            figure=charts.top_units(cells.get("units") or [], column=result.column),
            columns=["unit", "mean_w1", "share_drifted"],
            rows=[
                [u.get("unit"), u.get("mean_w1"), u.get("share_drifted")]
                for u in cells.get("units") or []
            ],
        ),
        Chart(
            name="months",
            figure=charts.month_rollup(cells.get("steps") or [], column=result.column),
            columns=["step", "month", "mean_w1", "share_drifted", "mean_change", "width_change"],
            rows=[
                [
                    s.get("step"),
                    s.get("month"),
                    s.get("mean_w1"),
                    s.get("share_drifted"),
                    s.get("mean_change"),
                    s.get("width_change"),
                ]
                for s in cells.get("steps") or []
            ],
        ),
    ]
    return chart_list
