"""Reads for the analyst pages (model health, compare, drift), each in a fixed number of
queries whatever the history length.

A release's run is its candidate's validation run when it was promoted through ewsdash,
else the latest finished run of its commit (imported releases, hotfixes validated by
hand). Its metrics are that run's ModelMetric rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db.models import Exists, F, OuterRef, Q
from django.http import Http404
from semver import Version

from monitoring.deployments import status_changes
from monitoring.metric_deltas import MetricDelta, worst_first
from monitoring.models import (
    RUN_FINAL,
    CheckResult,
    ConfigSnapshot,
    DriftJob,
    DriftJobStatus,
    DriftResult,
    ModelConfig,
    ModelMetric,
    ValidationRun,
)
from monitoring.validation.kinds import PERFORMANCE
from releases.models import CANDIDATE_OPEN as OPEN_CANDIDATE_STATUSES
from releases.models import PromotionCandidate, Release, ReleaseLine, Repository

# How many drift jobs the overview draws: the heatmap stays readable and its payload
# bounded, however many jobs a repository has run.
DRIFT_JOBS_SHOWN = 60


@lru_cache(maxsize=65_536)
def version_key(version: str) -> tuple:
    """A plain tuple that sorts like SemVer precedence.

    Comparing semver.Version objects costs ~10 ms per thousand releases on every page;
    tuples compare in C. A pre-release sorts before its release; its identifiers compare
    numerically when numeric, and numeric ones before alphanumeric ones (SemVer 11.4).
    Stored versions always parse; a hand-edited one sorts first instead of failing.
    """
    try:
        parsed = Version.parse(version)
    except ValueError:
        return (0, version)
    pre = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in (parsed.prerelease or "").split(".")
        if part
    )
    return (1, parsed.major, parsed.minor, parsed.patch, 0 if pre else 1, pre)


@dataclass(frozen=True)
class ReleaseRef:
    """What the charts need of a release: no changelog, no JSON."""

    pk: int
    version: str
    tag: str
    kind: str
    commit: str
    tagged_at: datetime | None
    live: bool
    rolled_back: bool
    run_id: int | None
    on_production: bool = True


def _release_rows(repository: Repository) -> list[dict[str, Any]]:
    """Every release of the repository as plain values (one query), oldest version first."""
    # The live flag rides along as a subquery instead of a query of its own.
    live = ReleaseLine.objects.filter(repository=repository, latest_release=OuterRef("pk"))
    rows = list(
        Release.objects.filter(repository=repository)
        .annotate(candidate_run_id=F("candidate__validation_run_id"), live=Exists(live))
        .values(
            "pk",
            "version",
            "tag",
            "kind",
            "commit",
            "tagged_at",
            "rolled_back_by_id",
            "restores_id",
            "on_production",
            "candidate_run_id",
            "live",
        )
    )
    rows.sort(key=lambda row: version_key(row["version"]))
    return rows  # type: ignore[return-value]  # the TypedDict django-stubs infers is a dict


def _latest_finished_runs(repository: Repository, commits: set[str]) -> dict[str, int]:
    """The latest finished run of each commit (one query; none when `commits` is empty)."""
    if not commits:
        return {}
    found: dict[str, int] = {}
    runs = (
        ValidationRun.objects.filter(
            repository=repository, commit__in=commits, status__in=RUN_FINAL
        )
        .order_by("commit", "attempt", "pk")
        .values_list("commit", "pk")
    )
    for commit, pk in runs:
        found[commit] = pk  # the last one wins: the highest attempt
    return found


def release_sequence(*, repository: Repository, runs: bool = True) -> list[ReleaseRef]:
    """Releases in semver order with their live flag and run (two queries).

    With `runs=False` (one query) a release's `run_id` is only its candidate's run; the
    caller looks up the fallback runs of the few releases it needs.
    """
    rows = _release_rows(repository)
    fallback = (
        _latest_finished_runs(
            repository, {row["commit"] for row in rows if row["candidate_run_id"] is None}
        )
        if runs
        else {}
    )
    own = {row["pk"]: row["candidate_run_id"] or fallback.get(row["commit"]) for row in rows}
    restores = {row["pk"]: row["restores_id"] for row in rows}

    def run_of(pk: int) -> int | None:
        # A rollback commit has no run of its own, but it has the tree (and so the
        # outputs) of the release it restores: that release's run stands for it.
        seen: set[int] = set()
        while own.get(pk) is None and restores.get(pk) is not None and pk not in seen:
            seen.add(pk)
            pk = restores[pk]  # type: ignore[assignment]
        return own.get(pk)

    return [
        ReleaseRef(
            pk=row["pk"],
            version=row["version"],
            tag=row["tag"],
            kind=row["kind"],
            commit=row["commit"],
            tagged_at=row["tagged_at"],
            live=row["live"],
            rolled_back=row["rolled_back_by_id"] is not None,
            run_id=run_of(row["pk"]),
            on_production=row["on_production"],
        )
        for row in rows
    ]


def open_candidate(*, repository: Repository) -> PromotionCandidate | None:
    """The newest open candidate with a validation run, with that run (one query)."""
    return (
        PromotionCandidate.objects.filter(
            repository=repository,
            status__in=OPEN_CANDIDATE_STATUSES,
            validation_run__isnull=False,
        )
        .select_related("validation_run")
        .defer("changelog")
        .order_by("-created_at", "-pk")
        .first()
    )


def performance_tolerance(manifest: dict | None) -> tuple[float, float]:
    """(tolerance, abs_tolerance) of the manifest's performance check; (0, 0) without one."""
    for check in (manifest or {}).get("check", []) or []:
        if isinstance(check, dict) and check.get("kind") == PERFORMANCE.name:
            return float(check.get("tolerance") or 0.0), float(check.get("abs_tolerance") or 0.0)
    return 0.0, 0.0


# -- model health -------------------------------------------------------------------------


# The step x release heatmaps show the newest releases only (and the live one): every
# step of a long history would cost more than the rest of the page.
HEATMAP_RELEASES = 24


@dataclass
class HealthPage:
    releases: list[ReleaseRef]  # oldest first
    candidate: PromotionCandidate | None
    subjects: list[tuple[str, str]]  # (model, target) pairs to choose from
    steps: list[int | None]
    model: str
    target: str
    step: int | None
    metrics: list[str]
    directions: dict[str, str]
    values: dict[tuple[int, str], float]  # (run id, metric) -> value at `step`
    tolerance: float = 0.0
    abs_tolerance: float = 0.0
    # Every step of the newest releases (and the live one and the candidate), for the
    # step x release heatmaps: (run id, metric, step) -> value.
    step_values: dict[tuple[int, str, int | None], float] = field(default_factory=dict)
    heat_releases: list[ReleaseRef] = field(default_factory=list)  # oldest first
    deployed: set[str] = field(default_factory=set)  # models deployed at the live release

    @property
    def live(self) -> ReleaseRef | None:
        return next((r for r in self.releases if r.live), None)

    @property
    def candidate_run_id(self) -> int | None:
        return self.candidate.validation_run_id if self.candidate else None

    def value(self, run_id: int | None, metric: str) -> float | None:
        return self.values.get((run_id, metric)) if run_id is not None else None

    def step_value(self, run_id: int | None, metric: str, step: int | None) -> float | None:
        return self.step_values.get((run_id, metric, step)) if run_id is not None else None


def _default_subject(subjects: list[tuple[str, str]], deployed: set[str]) -> tuple[str, str]:
    """The first model deployed at the live release, else the first one."""
    for model, target in subjects:
        if model in deployed:
            return model, target
    return subjects[0] if subjects else ("", "")


def model_health(
    *,
    repository: Repository,
    model: str = "",
    target: str = "",
    step: int | None = None,
    step_chosen: bool = True,
) -> HealthPage:
    """One model and target's metrics over every release, and the open candidate's, at one
    step; and every step of the newest releases.

    It opens on data: without a valid choice, the first model deployed at the live release
    and its step-less metrics (or its first step when it has none). Seven queries at most:
    releases, fallback runs, candidate, the choices, the live release's deployed models,
    the values, and the live run's manifest for the tolerance when there is no candidate.
    """
    releases = release_sequence(repository=repository)
    candidate = open_candidate(repository=repository)
    # The choices come from the newest runs only: scanning every metric of every release
    # for its model names would cost as much as the page itself.
    recent = [r.run_id for r in releases[-3:] if r.run_id is not None]
    live = next((r for r in releases if r.live), None)
    choice_runs = {*recent, *([live.run_id] if live and live.run_id else [])}
    if candidate is not None:
        choice_runs.add(candidate.validation_run_id)  # type: ignore[arg-type]
    keys = set(
        ModelMetric.objects.filter(run_id__in=choice_runs)
        .order_by()
        .values_list("model", "target", "step")
        .distinct()
    )
    subjects = sorted({(m, t) for m, t, _ in keys})
    deployed: set[str] = set()
    if live is not None:
        deployed = set(
            ModelConfig.objects.filter(
                snapshot__repository=repository, snapshot__commit=live.commit, status="deployed"
            ).values_list("name", flat=True)
        )
    if (model, target) not in subjects:
        model, target = _default_subject(subjects, deployed)
    steps = sorted(
        {s for m, t, s in keys if (m, t) == (model, target)}, key=lambda s: -1 if s is None else s
    )
    if steps and (not step_chosen or step not in steps):
        step = None if None in steps else steps[0]
    heat_releases = releases[-HEATMAP_RELEASES:]
    if live is not None and live not in heat_releases:
        heat_releases = [live, *heat_releases]
    heat_runs = {r.run_id for r in heat_releases if r.run_id is not None}
    if candidate is not None and candidate.validation_run_id is not None:
        heat_runs.add(candidate.validation_run_id)
    run_ids = {r.run_id for r in releases if r.run_id is not None} | choice_runs
    values: dict[tuple[int, str], float] = {}
    step_values: dict[tuple[int, str, int | None], float] = {}
    directions: dict[str, str] = {}
    if model:
        # One query: the chosen step of every run, and every step of the heatmap's runs.
        rows = ModelMetric.objects.filter(
            Q(run_id__in=run_ids, step=step) | Q(run_id__in=heat_runs),
            model=model,
            target=target,
        ).values_list("run_id", "metric", "step", "value", "direction")
        for run_id, metric, row_step, value, direction in rows:
            if row_step == step:
                values[(run_id, metric)] = value
            if run_id in heat_runs:
                step_values[(run_id, metric, row_step)] = value
            if direction:
                directions[metric] = direction
    if candidate is not None and candidate.validation_run is not None:
        manifest = candidate.validation_run.manifest
    elif live is not None and live.run_id is not None:
        manifest = (
            ValidationRun.objects.filter(pk=live.run_id).values_list("manifest", flat=True).first()
        )
    else:
        manifest = None
    tolerance, abs_tolerance = performance_tolerance(manifest)
    return HealthPage(
        releases=releases,
        candidate=candidate,
        subjects=subjects,
        steps=steps,
        model=model,
        target=target,
        step=step,
        metrics=sorted({metric for _, metric, _ in step_values} | {m for _, m in values}),
        directions=directions,
        values=values,
        tolerance=tolerance,
        abs_tolerance=abs_tolerance,
        step_values=step_values,
        heat_releases=heat_releases,
        deployed=deployed,
    )


# -- compare ------------------------------------------------------------------------------


@dataclass
class Side:
    """One side of a comparison: a release, or an open candidate (``candidate-<pk>``)."""

    ref: str
    label: str
    version: str
    run_id: int | None
    release: ReleaseRef | None = None
    candidate: PromotionCandidate | None = None
    run: ValidationRun | None = None
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def commit(self) -> str:
        if self.candidate is not None:
            return self.candidate.commit
        return self.release.commit if self.release is not None else ""


@dataclass
class ComparePage:
    before: Side
    after: Side
    changelog: list[dict[str, Any]]  # {"version", "entries"} per release in between
    deltas: list[MetricDelta]  # per model, target, metric and step, worst first
    drift_job: DriftJob | None
    drift_results: list[DriftResult]
    live_version: str
    tolerance: float = 0.0
    abs_tolerance: float = 0.0
    status_changes: list[Any] = field(default_factory=list)  # deployments.StatusChange
    statuses_read: bool = False  # both sides' deployment status is known

    @property
    def regressions(self) -> list[MetricDelta]:
        return [d for d in self.deltas if d.regressed]


def deltas_between(
    before_run_id: int | None,
    after_run_id: int | None,
    *,
    tolerance: float = 0.0,
    abs_tolerance: float = 0.0,
) -> list[MetricDelta]:
    """Every metric both runs reported (each model, target, metric and step), judged with
    the given tolerance, worst first (one query; none without both runs)."""
    if before_run_id is None or after_run_id is None:
        return []
    values: dict[tuple[str, str, str, int | None], dict[int, float]] = {}
    directions: dict[str, str] = {}
    rows = ModelMetric.objects.filter(run_id__in=[before_run_id, after_run_id]).values_list(
        "run_id", "model", "target", "metric", "step", "value", "direction"
    )
    for run_id, model, target, metric, step, value, direction in rows:
        values.setdefault((model, target, metric, step), {})[run_id] = value
        if direction:
            directions[metric] = direction
    return worst_first(
        [
            MetricDelta(
                model,
                target,
                metric,
                pair[before_run_id],
                pair[after_run_id],
                directions.get(metric, ""),
                step=step,
                tolerance=tolerance,
                abs_tolerance=abs_tolerance,
            )
            for (model, target, metric, step), pair in values.items()
            if before_run_id in pair and after_run_id in pair
        ]
    )


def _side(ref: str, releases: list[ReleaseRef], repository: Repository) -> Side:
    if ref.startswith("candidate-") and ref.removeprefix("candidate-").isdigit():
        candidate = (
            PromotionCandidate.objects.filter(
                repository=repository, pk=int(ref.removeprefix("candidate-"))
            )
            .select_related("validation_run")
            .first()
        )
        if candidate is None:
            raise Http404(f"No candidate {ref} in {repository.name}")
        return Side(
            ref=ref,
            label=f"candidate #{candidate.pk} ({candidate.version})",
            version=candidate.version,
            run_id=candidate.validation_run_id,
            candidate=candidate,
            run=candidate.validation_run,
        )
    version = ref.removeprefix("v")
    release = next((r for r in releases if r.version == version), None)
    if release is None:
        raise Http404(f"No release {version} in {repository.name}")
    return Side(
        ref=ref,
        label=release.tag or release.version,
        version=release.version,
        run_id=release.run_id,
        release=release,
    )


def _resolve_runs(repository: Repository, sides: tuple[Side, Side]) -> None:
    """Each side's run, in one query: a release's candidate run, else the latest finished
    run of its commit; a candidate's run came with the candidate."""
    wanted = Q(pk__in=[s.run_id for s in sides if s.run is None and s.run_id is not None])
    commits = [s.release.commit for s in sides if s.run_id is None and s.release is not None]
    if commits:
        wanted |= Q(repository=repository, commit__in=commits, status__in=RUN_FINAL)
    runs = list(ValidationRun.objects.filter(wanted).order_by("attempt", "pk"))
    for side in sides:
        if side.run is not None:
            continue
        if side.run_id is not None:
            side.run = next((r for r in runs if r.pk == side.run_id), None)
        elif side.release is not None:
            own = [r for r in runs if r.commit == side.release.commit and r.is_finished]
            side.run = own[-1] if own else None  # the highest attempt
            side.run_id = side.run.pk if side.run else None


def release_compare(*, repository: Repository, before: str, after: str) -> ComparePage:
    """Two releases (or a release and a candidate) side by side, in eight queries at most:
    releases, a candidate, changelogs, runs, checks, metrics (every step), drift, and the
    recorded deployment statuses of two releases.
    """
    releases = release_sequence(repository=repository, runs=False)
    a = _side(before, releases, repository)
    b = _side(after, releases, repository)
    low, high = sorted((a, b), key=lambda s: version_key(s.version))
    between = [
        r.pk
        for r in releases
        if version_key(low.version) < version_key(r.version) <= version_key(high.version)
    ]
    changelog = []
    if between:
        logs = dict(Release.objects.filter(pk__in=between).values_list("pk", "changelog"))
        changelog = [
            {"version": r.version, "tag": r.tag, "kind": r.kind, "entries": logs.get(r.pk) or []}
            for r in reversed(releases)
            if r.pk in logs
        ]
    for side in (a, b):
        # A candidate's own changes are not in any release yet.
        if side is high and side.candidate is not None:
            changelog.insert(
                0,
                {
                    "version": side.version,
                    "tag": side.label,
                    "kind": "candidate",
                    "entries": side.candidate.changelog,
                },
            )
    _resolve_runs(repository, (a, b))
    run_ids = [s.run_id for s in (a, b) if s.run_id is not None]
    checks = (
        list(CheckResult.objects.filter(run_id__in=run_ids).defer("log", "details"))
        if run_ids
        else []
    )
    for side in (a, b):
        side.checks = [c for c in checks if c.run_id == side.run_id]
    # The candidate (or the newer release) is judged by the older side's manifest, as
    # its performance check was by production's.
    tolerance, abs_tolerance = performance_tolerance(low.run.manifest if low.run else None)
    deltas = deltas_between(a.run_id, b.run_id, tolerance=tolerance, abs_tolerance=abs_tolerance)
    drift_results: list[DriftResult] = []
    if a.run_id and b.run_id:
        drift_results = list(
            DriftResult.objects.filter(
                job__in=DriftJob.objects.filter(
                    repository=repository,
                    status=DriftJobStatus.DONE,
                )
                .filter(
                    Q(reference_run_id=a.run_id, current_run_id=b.run_id)
                    | Q(reference_run_id=b.run_id, current_run_id=a.run_id)
                )
                .order_by("-created_at", "-pk")
                .values("pk")[:1]
            )
            .select_related("job")
            .defer("distribution", "cells", "tests", "conventions", "dropped")
            .order_by("-drifted", "model", "column")
        )
    live = next((r for r in releases if r.live), None)
    return ComparePage(
        before=a,
        after=b,
        changelog=changelog,
        deltas=deltas,
        drift_job=drift_results[0].job if drift_results else None,
        drift_results=drift_results,
        live_version=live.version if live else "",
        tolerance=tolerance,
        abs_tolerance=abs_tolerance,
        **_status_changes(repository, a, b),
    )


def _status_changes(repository: Repository, a: Side, b: Side) -> dict[str, Any]:
    """What the deployment status of each model changes from `a` to `b`, from the config
    snapshots read at the releases' commits (one query). A candidate's are read from git
    instead: see monitoring.code_changes."""
    if a.release is None or b.release is None:
        return {}
    commits = [a.release.commit, b.release.commit]
    snapshots = set(
        ConfigSnapshot.objects.filter(repository=repository, commit__in=commits).values_list(
            "commit", flat=True
        )
    )
    if snapshots != set(commits):
        return {}  # not read yet: say nothing rather than something wrong
    statuses: dict[str, dict[str, str]] = {commit: {} for commit in commits}
    rows = ModelConfig.objects.filter(
        snapshot__repository=repository, snapshot__commit__in=commits, kind="model"
    ).values_list("snapshot__commit", "name", "status")
    for commit, model, status in rows:
        if status:
            statuses[commit][model] = status
    before, after = statuses[commits[0]], statuses[commits[1]]
    return {"status_changes": status_changes(before, after), "statuses_read": True}


# -- drift --------------------------------------------------------------------------------


@dataclass
class DriftOverview:
    jobs: list[DriftJob]  # newest first
    cells: list[tuple[int, str, str, float | None, bool]]  # job, model, column, effect, drifted
    markers: list[ReleaseRef]


def drift_overview(*, repository: Repository) -> DriftOverview:
    """The latest finished drift jobs, their verdicts, and the releases (three queries)."""
    jobs = list(
        DriftJob.objects.filter(repository=repository, status=DriftJobStatus.DONE).order_by(
            "-created_at", "-pk"
        )[:DRIFT_JOBS_SHOWN]
    )
    cells = (
        list(
            DriftResult.objects.filter(job_id__in=[job.pk for job in jobs])
            .order_by("job_id", "model", "column")
            .values_list("job_id", "model", "column", "effect", "drifted")
        )
        if jobs
        else []
    )
    markers = [
        ReleaseRef(
            pk=pk,
            version=version,
            tag=tag,
            kind=kind,
            commit="",
            tagged_at=tagged_at,
            live=False,
            rolled_back=False,
            run_id=None,
        )
        for pk, version, tag, kind, tagged_at in Release.objects.filter(
            repository=repository, tagged_at__isnull=False
        ).values_list("pk", "version", "tag", "kind", "tagged_at")
    ]
    return DriftOverview(jobs=jobs, cells=cells, markers=markers)


def drift_job(*, repository: Repository, job_id: int) -> tuple[DriftJob, list[DriftResult]]:
    """One job and its results without their bulky JSON (two queries), or 404."""
    job = DriftJob.objects.filter(repository=repository, pk=job_id).first()
    if job is None:
        raise Http404("No such drift job")
    results = list(
        DriftResult.objects.filter(job=job)
        .defer("distribution", "cells", "tests", "conventions", "dropped")
        .order_by("-drifted", "model", "column")
    )
    return job, results


def drift_result(*, repository: Repository, job_id: int, result_id: int) -> DriftResult:
    """One column's result with its job (one query), or 404."""
    result = (
        DriftResult.objects.filter(pk=result_id, job_id=job_id, job__repository=repository)
        .select_related("job")
        .first()
    )
    if result is None:
        raise Http404("No such drift result")
    return result
