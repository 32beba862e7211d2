"""Reads the drift pages need, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from monitoring.drift_jobs import PREDICTIONS, model_of
from monitoring.models import RUN_FINAL, CheckArtifact, DriftJob, DriftResult, ValidationRun
from releases.models import PromotionCandidate, Release, Repository


@dataclass(frozen=True)
class RunChoice:
    run_id: int
    label: str  # "v1.2.1" or "candidate #4"
    detail: str  # what the label does not say: the run and its commit


def drift_job_list(*, repository: Repository, limit: int = 50) -> QuerySet[DriftJob]:
    return (
        DriftJob.objects.filter(repository=repository)
        .select_related("created_by")
        .defer("summary")
        .order_by("-created_at", "-pk")[:limit]
    )


def drift_run_choices(*, repository: Repository) -> list[RunChoice]:
    """Runs an analyst may compare: releases' runs (newest release first), then candidates'.

    A release's run is its candidate's validation run, or else the latest finished run of
    its commit (releases imported from tags never had a candidate). Three queries.
    """
    releases = list(
        Release.objects.filter(repository=repository)
        .select_related("candidate__validation_run")
        .order_by("-tagged_at", "-pk")
    )
    finished = ValidationRun.objects.filter(
        repository=repository,
        status__in=RUN_FINAL,
        commit__in=[release.commit for release in releases],
    ).order_by("created_at", "pk")
    latest = {run.commit: run for run in finished}  # the last one of a commit wins
    choices: list[RunChoice] = []
    seen: set[int] = set()
    for release in releases:
        candidate = getattr(release, "candidate", None)
        run = candidate.validation_run if candidate is not None else None
        if run is None or run.status not in RUN_FINAL:
            run = latest.get(release.commit)
        if run is not None and run.pk not in seen:
            seen.add(run.pk)
            choices.append(RunChoice(run.pk, str(release), f"run #{run.pk}, {run.short_commit}"))
    candidates = (
        PromotionCandidate.objects.filter(
            repository=repository, validation_run__status__in=RUN_FINAL
        )
        .select_related("validation_run")
        .order_by("-created_at", "-pk")
    )
    for candidate in candidates:
        run = candidate.validation_run
        assert run is not None
        if run.pk not in seen:
            seen.add(run.pk)
            choices.append(
                RunChoice(
                    run.pk,
                    f"candidate #{candidate.pk}",
                    f"{candidate.version} from {candidate.source_branch}, run #{run.pk}",
                )
            )
    return choices


def drift_model_choices(*, run_ids: list[int], check_name: str = "inference") -> list[str]:
    """Models with predictions in any of these runs (one query)."""
    names = (
        CheckArtifact.objects.filter(
            check_result__run_id__in=run_ids, check_result__name=check_name, kind=PREDICTIONS
        )
        .values_list("name", flat=True)
        .distinct()
    )
    return sorted({model for name in names if (model := model_of(name))})


def drift_job_for_page(*, repository: Repository, job_id: int) -> DriftJob | None:
    return (
        DriftJob.objects.filter(repository=repository, pk=job_id)
        .select_related("repository", "reference_run", "current_run", "created_by")
        .first()
    )


def drift_result_rows(*, job: DriftJob) -> QuerySet[DriftResult]:
    """The results table: the chart data (distribution, cells) stays in the database."""
    return (
        DriftResult.objects.filter(job=job)
        .defer("distribution", "cells", "conventions", "tests", "dropped")
        .order_by("model", "column")
    )
