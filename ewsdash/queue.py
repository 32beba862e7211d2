"""Work for the Celery workers, queued by task name once the transaction commits.

Tasks import services (a task loads rows by id and calls one); services never import a
tasks module. They queue work through `enqueue_on_commit` with one of the names below,
so a task never sees an uncommitted row and no import cycle runs through the tasks.
`tests/test_queue.py` checks that every name here is a registered task.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

REPOSITORY_SYNC = "releases.tasks.repository_sync"
CANDIDATE_CREATE = "releases.tasks.candidate_create"
CANDIDATE_PROMOTE = "releases.tasks.candidate_promote"
CANDIDATE_GATES_PUBLISH = "releases.tasks.candidate_gates_publish"
CANDIDATE_PULL_REQUEST_OPEN = "releases.tasks.candidate_pull_request_open"
OPERATION_RUN = "releases.tasks.operation_run"
CHECK_RESULT_RUN = "monitoring.tasks.check_result_run"
DRIFT_PART_RUN = "monitoring.tasks.drift_part_run"
DEPLOYMENT_CONFIGS_RECORD = "monitoring.tasks.deployment_configs_record"
BRANCH_MERGES_RECORD = "releases.tasks.branch_merges_record"
VALIDATION_RUNS_FOR_RELEASES = "monitoring.tasks.validation_runs_for_releases"
NOTIFICATION_DELIVER = "notifications.tasks.notification_deliver"
SKILL_LEDGER_UPDATE = "monitoring.tasks.skill_ledger_update"
SKILL_LEDGER_UPDATE_ALL = "monitoring.tasks.skill_ledger_update_all"

TASK_NAMES = (
    REPOSITORY_SYNC,
    CANDIDATE_CREATE,
    CANDIDATE_PROMOTE,
    CANDIDATE_GATES_PUBLISH,
    CANDIDATE_PULL_REQUEST_OPEN,
    OPERATION_RUN,
    CHECK_RESULT_RUN,
    DRIFT_PART_RUN,
    DEPLOYMENT_CONFIGS_RECORD,
    BRANCH_MERGES_RECORD,
    VALIDATION_RUNS_FOR_RELEASES,
    NOTIFICATION_DELIVER,
    SKILL_LEDGER_UPDATE,
    SKILL_LEDGER_UPDATE_ALL,
)


def enqueue(
    task: str,
    *,
    soft_time_limit: int | None = None,
    time_limit: int | None = None,
    **kwargs: Any,
) -> None:
    """Send one message now (outside a transaction, or when the caller knows it committed)."""
    if task not in TASK_NAMES:
        raise ValueError(f"unknown task {task!r}")
    # Loaded on first use, not at import: a command or page that queues nothing starts
    # without Celery (see ewsdash/__init__.py).
    from ewsdash.celery import app

    app.send_task(task, kwargs=kwargs, soft_time_limit=soft_time_limit, time_limit=time_limit)


def enqueue_on_commit(
    task: str,
    *,
    soft_time_limit: int | None = None,
    time_limit: int | None = None,
    **kwargs: Any,
) -> None:
    """Send one message when the current transaction commits (at once outside one)."""
    if task not in TASK_NAMES:
        raise ValueError(f"unknown task {task!r}")
    transaction.on_commit(
        lambda: enqueue(task, soft_time_limit=soft_time_limit, time_limit=time_limit, **kwargs)
    )
