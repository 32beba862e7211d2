"""The header's "waiting for you" count (fetched by every page once it has loaded) and the
panel's incidents for admins."""

import pytest
from django.urls import reverse

from releases.incidents import incidents_open
from tests.promotion.conftest import waive
from tests.promotion.factories import open_incident

pytestmark = pytest.mark.django_db


def count(login, username: str) -> str:
    html = login(username).get(reverse("waiting_count")).content.decode()
    if 'data-testid="waiting-count-none"' in html:
        return "0"
    start = html.index(">", html.index('data-testid="waiting-count"')) + 1
    return html[start : html.index("</a>", start)]


def test_every_page_asks_for_the_count(login, registered):
    page = login("viewer").get(reverse("audit")).content.decode()
    assert f'data-waiting-count-url="{reverse("waiting_count")}"' in page
    assert "js/waiting-count.js" in page


def test_it_counts_what_each_person_may_do(candidate, users, login):
    # The candidate failed validation (no manifest): its creator must act.
    assert count(login, "rm-ana") == "1"
    assert count(login, "rm-ben") == "0"
    waive(candidate, users)
    assert count(login, "rm-ben") == "1"  # may approve
    assert count(login, "rm-ana") == "1"  # hers waits for approvals
    assert count(login, "admin") == "1"
    assert count(login, "viewer") == "0"

    open_incident()
    assert count(login, "admin") == "2"  # admins acknowledge incidents
    assert count(login, "rm-ben") == "1"


def test_admins_see_open_incidents_in_the_panel(candidate, users, login):
    open_incident()
    [incident] = incidents_open()
    page = login("admin").get(reverse("repository_overview", kwargs={"name": "pipeline"}))
    html = page.content.decode()
    assert 'data-testid="incident-to-acknowledge"' in html
    assert str(incident) in html
    assert reverse("incident_list", kwargs={"name": "pipeline"}) in html
    ben = login("rm-ben").get(reverse("repository_overview", kwargs={"name": "pipeline"}))
    assert 'data-testid="incident-to-acknowledge"' not in ben.content.decode()
