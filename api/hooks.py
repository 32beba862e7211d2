"""Webhooks in: take one delivery at most once and queue a sync of its repository."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from api.models import WebhookDelivery
from ewsdash import queue
from releases import services
from releases.models import PromotionCandidate, Repository
from releases.workflow import OPEN

# Deliveries are remembered this long; GitHub redelivers on request within days.
DELIVERY_MEMORY = timedelta(days=30)


def webhook_accept(
    *,
    source: str,
    delivery_id: str,
    repository: Repository,
    event: str,
    ref: str,
    pull_request: int | None = None,
) -> bool:
    """Record the delivery and queue a sync once committed; False (nothing done) when
    this delivery id was taken before: a replay or a redelivery of a handled event.

    A review of `pull_request` also queues the gates of the open candidate it belongs
    to: the worker reads the reviews (releases.forge_reviews) and republishes the status."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                WebhookDelivery.objects.create(
                    source=source,
                    delivery_id=delivery_id,
                    repository_name=repository.name,
                    event=event,
                )
        except IntegrityError:
            return False
        WebhookDelivery.objects.filter(received_at__lt=timezone.now() - DELIVERY_MEMORY).delete()
        services.repository_request_sync(
            repository=repository,
            actor=f"{source} webhook",
            payload={"event": event, "ref": ref, "delivery": delivery_id},
        )
        if pull_request is not None:
            reviewed = PromotionCandidate.objects.filter(
                repository=repository, forge_pull_request=pull_request, status__in=OPEN
            )
            for candidate_id in reviewed.values_list("pk", flat=True):
                queue.enqueue_on_commit(queue.CANDIDATE_GATES_PUBLISH, candidate_id=candidate_id)
    return True
