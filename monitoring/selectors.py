"""Reads the validation pages need, each in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from monitoring.models import CheckArtifact, CheckResult, ValidationRun
from releases.models import Repository


@dataclass
class RunPanel:
    """A run with its checks and each check's artifacts: three queries, however many checks."""

    run: ValidationRun
    checks: list[CheckResult]
    artifacts: dict[int, list[CheckArtifact]] = field(default_factory=dict)

    @property
    def polling(self) -> bool:
        return not self.run.is_finished


def run_panel(*, run: ValidationRun) -> RunPanel:
    checks = list(CheckResult.objects.filter(run=run).order_by("position"))
    uses = CheckArtifact.objects.filter(check_result__run=run).select_related("artifact")
    artifacts: dict[int, list[CheckArtifact]] = {}
    for use in uses.order_by("check_result_id", "name"):
        artifacts.setdefault(use.check_result_id, []).append(use)
    now = timezone.now()
    for check in checks:
        check.artifact_list = artifacts.get(check.pk, [])  # type: ignore[attr-defined]
        end = check.finished_at or now
        check.elapsed_s = (  # type: ignore[attr-defined]
            (end - check.started_at).total_seconds() if check.started_at else None
        )
    return RunPanel(run=run, checks=checks, artifacts=artifacts)


def run_for_page(*, repository: Repository, run_id: int) -> ValidationRun | None:
    return (
        ValidationRun.objects.filter(repository=repository, pk=run_id)
        .select_related("repository", "reference", "created_by")
        .first()
    )


def run_list(*, repository: Repository, limit: int = 50) -> QuerySet[ValidationRun]:
    return (
        ValidationRun.objects.filter(repository=repository)
        .select_related("created_by")
        .order_by("-created_at", "-pk")[:limit]
    )
