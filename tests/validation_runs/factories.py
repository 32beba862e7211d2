"""Validation runs made straight in the database, for page and permission tests."""

from __future__ import annotations

from django.utils import timezone

from monitoring.models import CheckResult, ValidationRun
from releases.models import Branch, Repository


def make_run(*, status: str = "passed", name: str = "pipeline", checks: int = 1) -> ValidationRun:
    repository = Repository.objects.get(name=name)
    head = Branch.objects.get(repository=repository, name=repository.production_branch).head
    finished = status not in ("queued", "running")
    attempt = ValidationRun.objects.filter(repository=repository, commit=head).count() + 1
    run = ValidationRun.objects.create(
        repository=repository,
        commit=head,
        attempt=attempt,
        purpose="manual",
        status=status,
        manifest={"path": "ewsdash.toml", "check": []},
        manifest_path="ewsdash.toml",
        summary=f"{checks} checks",
        started_at=timezone.now(),
        finished_at=timezone.now() if finished else None,
    )
    CheckResult.objects.bulk_create(
        CheckResult(
            run=run,
            position=i,
            name=f"check-{i}",
            kind="command",
            timeout_s=60,
            status="passed" if finished else "running",
            log="line\n" * 3,
            summary="ok",
            started_at=timezone.now(),
        )
        for i in range(checks)
    )
    return run


def finished_run() -> int:
    return make_run(status="passed").pk


def running_run() -> int:
    return make_run(status="running").pk
