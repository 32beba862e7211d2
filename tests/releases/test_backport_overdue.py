"""Back-ports waiting more than a week are told to the people who can merge them, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Delivery
from releases import services
from releases.models import AuditEvent, BackportItem, BackportResolution

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(registered):
    item = BackportItem.objects.get(resolved_at=None)
    assert item.release is None or item.release.tagged_at is not None
    return item


def age(item: BackportItem, days: int) -> None:
    when = timezone.now() - timedelta(days=days)
    item.committed_at = when
    item.save(update_fields=["committed_at"])
    if item.release is not None:
        item.release.tagged_at = when
        item.release.save(update_fields=["tagged_at"])


def overdue_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="backport.overdue"))


def test_an_item_waiting_eight_days_is_flagged_once_and_reaches_release_managers(
    item, users, settings
):
    settings.EWSDASH_NOTIFY_EMAIL_URL = "mailto://127.0.0.1:9?from=ewsdash@example.org"
    age(item, 8)

    assert services.backports_flag_overdue() == 1
    assert services.backports_flag_overdue() == 0

    (event,) = overdue_events()
    assert (event.actor_name, event.repository_name) == ("system", "pipeline")
    assert event.payload["commit"] == item.commit
    recipients = Delivery.objects.filter(recipient__isnull=False).values_list(
        "recipient__username", flat=True
    )
    assert sorted(recipients) == ["admin", "rm-ana", "rm-ben"]
    assert "back-port overdue" in Delivery.objects.first().title


def test_a_recent_item_is_not_flagged(item):
    age(item, 3)

    assert services.backports_flag_overdue() == 0
    assert overdue_events() == []


def test_a_resolved_item_is_not_flagged(item, users):
    age(item, 30)
    item.resolved_at = timezone.now()
    item.resolved_how = BackportResolution.WONT
    item.reason = "main only"
    item.save()

    assert services.backports_flag_overdue() == 0
    assert overdue_events() == []
