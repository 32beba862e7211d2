"""Celery tasks of notifications: thin wrappers around notifications.delivery."""

from __future__ import annotations

from typing import Any

from ewsdash.celery import app
from notifications import delivery


@app.task(name="notifications.tasks.notification_deliver", bind=True, max_retries=None)
def notification_deliver(self: Any, *, delivery_id: int) -> str:
    # The row counts the attempts and decides when to give up; Celery only carries the
    # back-off's wait. Were this retry message lost, beat's sweep queues the row again.
    outcome = delivery.delivery_send(delivery_id=delivery_id)
    if outcome.status == "pending":
        raise self.retry(countdown=outcome.retry_in)
    return f"delivery #{delivery_id}: {outcome.status} {outcome.error}".strip()


@app.task(name="notifications.tasks.deliveries_resend_due")
def deliveries_resend_due() -> str:
    return f"re-queued {len(delivery.deliveries_resend_due())} deliveries"
