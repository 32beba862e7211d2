"""A release manager takes a production-only commit off the back-port ledger, with a reason."""

import pytest
from django.urls import reverse

from releases import services, sync
from releases.errors import ActionRefused
from releases.models import AuditEvent, BackportItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(registered):
    return BackportItem.objects.get(repository=registered, resolved_at=None)


def test_it_leaves_the_open_items_with_reason_and_audit(registered, item, users):
    services.backport_wont(
        repository=registered,
        item_id=item.pk,
        actor=users["rm-ana"],
        reason="production pins views-pipeline-core to 2.x; development stays on 3.x",
    )
    item.refresh_from_db()
    assert (item.resolved_how, item.decided_by) == ("wont", users["rm-ana"])
    event = AuditEvent.objects.get(action="backport.wont")
    assert event.payload["commit"] == item.commit
    assert event.payload["reason"].startswith("production pins")
    # A later sync does not reopen it: development still lacks the commit, on purpose.
    sync.repository_sync(repository=registered, force=True)
    item.refresh_from_db()
    assert item.resolved_how == "wont"


def test_it_needs_a_reason_an_open_item_and_the_right(registered, item, users):
    with pytest.raises(ActionRefused, match="Say why"):
        services.backport_wont(
            repository=registered, item_id=item.pk, actor=users["rm-ana"], reason="  "
        )
    with pytest.raises(ActionRefused):
        services.backport_wont(
            repository=registered, item_id=item.pk, actor=users["analyst"], reason="x"
        )
    services.backport_wont(repository=registered, item_id=item.pk, actor=users["admin"], reason="x")
    with pytest.raises(ActionRefused, match="no longer waiting"):
        services.backport_wont(
            repository=registered, item_id=item.pk, actor=users["admin"], reason="y"
        )


def test_the_overview_shows_decided_items_apart(login, registered, item):
    client = login("rm-ana")
    url = reverse("repository_overview", args=["pipeline"])
    html = client.get(url).content.decode()
    assert 'data-testid="backport-wont-form"' in html
    response = client.post_form(
        reverse("backport_wont", args=["pipeline", item.pk]), {"reason": "main-only pin"}
    )
    assert response.status_code == 302
    html = client.get(url).content.decode()
    wont = html[html.index('data-testid="backport-wont"') :]
    assert item.commit in wont[:3000] and "main-only pin" in wont[:3000]
    assert 'data-testid="backport-row"' not in html
    # A viewer reads the decision but has no form.
    viewer = login("viewer").get(url).content.decode()
    assert "main-only pin" in viewer and "backport-wont-form" not in viewer
