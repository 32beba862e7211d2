"""A release history with metrics, a candidate and drift jobs, made straight in the
database for the analyst pages' tests (and reused by bench/pages.py at a larger size)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from monitoring.models import (
    CheckResult,
    ConfigSnapshot,
    DriftJob,
    DriftResult,
    ModelConfig,
    ModelMetric,
    ValidationRun,
)
from releases.models import PromotionCandidate, Release, ReleaseLine, Repository

MANIFEST = {
    "path": "ewsdash.toml",
    "check": [
        {
            "name": "performance",
            "kind": "performance",
            "required": True,
            "timeout": 60,
            "tolerance": 0.05,
        },
    ],
}
DIRECTIONS = {"crps": "lower", "mse": "lower", "coverage": "higher"}


def sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 (a fake commit id)


@dataclass
class History:
    repository: Repository
    releases: list[Release] = field(default_factory=list)
    runs: list[ValidationRun] = field(default_factory=list)
    candidate: PromotionCandidate | None = None
    jobs: list[DriftJob] = field(default_factory=list)


def metric_value(metric: str, release: int, model: int, step: int | None) -> float:
    """Deterministic values: crps improves over releases except a bump at release 2."""
    base = {"crps": 1.0, "mse": 4.0, "coverage": 0.8}.get(metric, 1.0) + 0.1 * model
    trend = -0.01 * release + (0.5 if release == 2 else 0.0)
    return round(base + trend + 0.001 * (step or 0), 6)


def make_run(
    repository: Repository,
    commit: str,
    *,
    index: int,
    models: list[str],
    metrics: list[str],
    steps: list[int | None],
    purpose: str = "reference",
) -> ValidationRun:
    run = ValidationRun.objects.create(
        repository=repository,
        commit=commit,
        purpose=purpose,
        status="passed",
        manifest=MANIFEST,
        manifest_path="ewsdash.toml",
        summary="1 check passed",
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )
    check = CheckResult.objects.create(
        run=run,
        position=0,
        name="performance",
        kind="performance",
        timeout_s=60,
        status="passed",
        summary="within tolerance of production",
    )
    ModelMetric.objects.bulk_create(
        ModelMetric(
            run=run,
            check_result=check,
            model=model,
            target="ged_sb",
            metric=metric,
            step=step,
            value=metric_value(metric, index, m, step),
            direction=DIRECTIONS.get(metric, ""),
        )
        for m, model in enumerate(models)
        for metric in metrics
        for step in steps
    )
    return run


def seed_history(
    *,
    name: str = "pipeline",
    releases: int = 5,
    models: list[str] | None = None,
    metrics: list[str] | None = None,
    steps: list[int | None] | None = None,
    candidate: bool = True,
    drift_jobs: int = 1,
    rollback_at: int | None = 3,
) -> History:
    """`releases` releases 2.0.0, 2.1.0, ... (a rollback at `rollback_at`), each with a
    validation run and metrics; the newest is live; an open candidate with its own run;
    `drift_jobs` finished drift jobs comparing the live release with the candidate."""
    models = models or ["lr_bright_sky", "hm_calm_sea"]
    metrics = metrics or ["crps", "mse", "coverage"]
    steps = steps if steps is not None else [None, 1, 2, 3]
    repository = Repository.objects.get(name=name)
    history = History(repository=repository)
    start = timezone.now() - timedelta(days=releases + 10)
    for i in range(releases):
        commit = sha(f"{name}-release-{i}")
        kind = "rollback" if i == rollback_at else "promotion"
        release = Release.objects.create(
            repository=repository,
            version=f"2.{i}.0",
            tag=f"v2.{i}.0",
            tags=[f"v2.{i}.0"],
            commit=commit,
            kind=kind,
            tagged_at=start + timedelta(days=i),
            on_production=True,
            changelog=[
                {
                    "group": "Features",
                    "sha": commit[:8],
                    "author": "Pat",
                    "type": "feat",
                    "scope": "",
                    "subject": f"change number {i}",
                }
            ],
        )
        history.releases.append(release)
        history.runs.append(
            make_run(repository, commit, index=i, models=models, metrics=metrics, steps=steps)
        )
    # Deployment status as monitoring.deployments would read it: the first model is a
    # shadow until release 2, then deployed; the second is deployed throughout.
    for i, release in enumerate(history.releases):
        snapshot = ConfigSnapshot.objects.create(repository=repository, commit=release.commit)
        ModelConfig.objects.bulk_create(
            ModelConfig(
                snapshot=snapshot,
                name=model,
                kind="model",
                status="deployed" if m or i >= 2 else "shadow",
                path=f"models/{model}/configs/config_deployment.py",
            )
            for m, model in enumerate(models)
        )
    if rollback_at is not None and 0 < rollback_at < releases:
        rolled = history.releases[rollback_at - 1]
        rolled.rolled_back_by = history.releases[rollback_at]
        rolled.save(update_fields=["rolled_back_by"])
    ReleaseLine.objects.update_or_create(
        repository=repository, defaults={"latest_release": history.releases[-1]}
    )
    if candidate:
        commit = sha(f"{name}-candidate")
        run = make_run(
            repository,
            commit,
            index=releases + 1,
            models=models,
            metrics=metrics,
            steps=steps,
            purpose="candidate",
        )
        # Its validation compared it with the live release's run, as a real one does.
        run.reference = history.runs[releases - 1]
        run.save(update_fields=["reference"])
        # One regression beyond the 5% tolerance, so the page has something to flag.
        ModelMetric.objects.filter(run=run, model=models[0], metric="crps").update(value=9.0)
        history.candidate = PromotionCandidate.objects.create(
            repository=repository,
            kind="promotion",
            source_branch="development",
            commit=commit,
            production_head=history.releases[-1].commit,
            checked_production_head=history.releases[-1].commit,
            contains_production_head=True,
            version=f"2.{releases}.0",
            proposed_version=f"2.{releases}.0",
            bump="minor",
            base_version=history.releases[-1].version,
            status="validated",
            changelog=[
                {
                    "group": "Features",
                    "sha": "cafe1234",
                    "author": "Pat",
                    "type": "feat",
                    "scope": "",
                    "subject": "candidate change",
                }
            ],
            created_by=get_user_model().objects.get_or_create(username="rm-ben")[0],
            validation_run=run,
        )
        history.runs.append(run)
        for _ in range(drift_jobs):
            history.jobs.append(
                make_drift_job(
                    repository,
                    history.runs[releases - 1],
                    run,
                    reference_label=history.releases[-1].tag,
                    current_label=f"candidate #{history.candidate.pk}",
                    models=models,
                )
            )
    return history


def make_drift_job(
    repository: Repository,
    reference: ValidationRun,
    current: ValidationRun,
    *,
    reference_label: str,
    current_label: str,
    models: list[str],
    columns: int = 2,
) -> DriftJob:
    job = DriftJob.objects.create(
        repository=repository,
        reference_run=reference,
        current_run=current,
        reference_label=reference_label,
        current_label=current_label,
        status="done",
        parts_total=1,
        parts_done=1,
        summary={"drifted": 1},
        finished_at=timezone.now(),
    )
    results = []
    for m, model in enumerate(models):
        for c in range(columns):
            drifted = m == 0 and c == 0
            results.append(
                DriftResult(
                    job=job,
                    model=model,
                    column=f"pred_col_{c}",
                    kind="numeric",
                    status="ok",
                    n_reference=1000,
                    n_current=1000,
                    ks_statistic=0.3 if drifted else 0.02,
                    ks_p_value=0.001 if drifted else 0.6,
                    q_value=0.002 if drifted else 0.7,
                    wasserstein_normed=0.4 if drifted else 0.01,
                    psi=0.2,
                    jensen_shannon=0.1,
                    effect=0.4 if drifted else 0.01,
                    drifted=drifted,
                    reason="effect above 0.1 and q below 0.05" if drifted else "",
                    distribution={
                        "edges": [0, 1, 2, 3, 4],
                        "reference": [10, 40, 40, 10],
                        "current": [5, 20, 45, 30],
                        "quantiles": [0.1, 0.5, 0.9],
                        "reference_q": [0.5, 2.0, 3.5],
                        "current_q": [0.8, 2.4, 3.8],
                    },
                )
            )
    results.append(
        DriftResult(
            job=job,
            model=models[0],
            column="pred_draws",
            kind="draws",
            status="ok",
            n_reference=3 * 4 * 64,
            n_current=3 * 4 * 64,
            effect=0.3,
            drifted=True,
            reason="draws moved in 4 of 12 cells",
            distribution={"edges": [0, 1, 2], "reference": [60, 40], "current": [30, 70]},
            cells={
                "steps": [
                    {
                        "step": s,
                        "month": 540 + s,
                        "mean_w1": 0.1 * s,
                        "share_drifted": s / 4,
                        "mean_change": 0.05 * s,
                        "width_change": 0.01,
                    }
                    for s in range(1, 5)
                ],
                "units": [
                    {"unit": u, "mean_w1": 0.1 * u, "share_drifted": u / 3} for u in (11, 22, 33)
                ],
                "matrix": {
                    "units": [11, 22, 33],
                    "steps": [1, 2, 3, 4],
                    "w1": [[0.1, 0.2, 0.3, 0.4]] * 3,
                    "drifted": [[False, False, True, True]] * 3,
                },
                "months": [541, 542, 543, 544],
            },
        )
    )
    DriftResult.objects.bulk_create(results)
    return job


# Callables for tests/test_view_permissions.py (called for their ids inside each test).
def drift_job_id() -> int:
    history = seed_history(releases=2, rollback_at=None)
    return history.jobs[0].pk


def drift_result_id() -> int:
    return DriftResult.objects.latest("pk").pk


def history_candidate_id() -> int:
    history = seed_history(releases=2, rollback_at=None, drift_jobs=0)
    assert history.candidate is not None
    return history.candidate.pk
