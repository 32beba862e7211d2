"""Deciding where the evidence is: Approve/Reject for the open candidate on model health and
compare, and Roll back to a release from its point or row (admins, via the preview)."""

import json
import re

import pytest
from django.urls import reverse

from releases.models import Approval

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(users, registered):
    from tests.monitoring_pages.factories import seed_history

    return seed_history()


def health(client, **query):
    return client.get(reverse("model_health", args=["pipeline"]), query)


def figures(response) -> dict[str, dict]:
    found = re.findall(
        r'<script type="application/json" id="fig-([\w-]+)">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return {name: json.loads(text) for name, text in found}


def test_a_release_manager_approves_from_model_health_and_comes_back(login, history):
    client = login("rm-ana")
    page = health(client, subject="lr_bright_sky|ged_sb", step="2")
    html = page.content.decode()
    assert 'data-testid="decision-bar"' in html and "0 of 2 approvals" in html
    assert re.search(r'data-testid="bar-approve"\s*>', html)  # enabled
    back = reverse("model_health", args=["pipeline"]) + "?subject=lr_bright_sky%7Cged_sb&step=2"
    response = client.post_form(
        reverse("candidate_approve", args=["pipeline", history.candidate.pk]), {"next": back}
    )
    assert response["Location"] == back
    assert Approval.objects.filter(candidate=history.candidate, user__username="rm-ana").exists()
    again = health(client, subject="lr_bright_sky|ged_sb", step="2").content.decode()
    assert "1 of 2 approvals" in again and "You have already decided" in again


def test_the_creator_sees_approve_disabled_with_the_same_reason(login, history):
    html = health(login("rm-ben")).content.decode()
    assert 'data-testid="bar-approve" disabled title="You created this candidate' in html
    assert "Before it can be promoted:" in html and "Approvals: 0 of 2" in html


def test_a_rejection_from_compare_needs_a_reason_and_comes_back(login, history):
    client = login("rm-ana")
    url = reverse("candidate_compare", args=["pipeline", "2.4.0", history.candidate.pk])
    assert 'data-testid="bar-reject"' in client.get(url).content.decode()
    refused = client.post_form(
        reverse("candidate_reject", args=["pipeline", history.candidate.pk]),
        {"next": url, "reason": " "},
        follow=True,
    )
    assert refused.redirect_chain[-1][0] == url
    assert "A rejection needs a reason" in refused.content.decode()
    done = client.post_form(
        reverse("candidate_reject", args=["pipeline", history.candidate.pk]),
        {"next": url, "reason": "crps regressed by 800 %"},
    )
    assert done["Location"] == url
    history.candidate.refresh_from_db()
    assert history.candidate.status == "rejected"
    assert 'data-testid="decision-bar"' not in client.get(url).content.decode()


@pytest.mark.parametrize("username", ["analyst", "viewer"])
def test_readers_see_no_decision_and_no_rollback(login, history, username):
    response = health(login(username))
    html = response.content.decode()
    assert 'data-testid="decision-bar"' not in html and "rollback-to-" not in html
    meta = figures(response)["metric-crps-1"]["layout"]["meta"]
    assert meta["point_links"]["2.1.0"] == reverse("release_detail", args=["pipeline", "2.1.0"])
    assert meta["link_confirm"] == {}


def test_an_admin_rolls_back_from_a_point_or_a_row_through_the_preview(login, history):
    response = health(login("admin"))
    html = response.content.decode()
    preview = reverse("rollback_preview", args=["pipeline", "2.1.0"])
    assert f'href="{preview}" data-testid="rollback-to-2.1.0"' in html
    assert 'data-testid="rollback-to-2.4.0"' not in html  # live: nothing to roll back to
    meta = figures(response)["metric-crps-1"]["layout"]["meta"]
    assert meta["point_links"]["2.1.0"] == preview
    assert meta["link_confirm"]["2.1.0"].startswith("Roll production back to v2.1.0?")
    assert "2.4.0" not in meta["link_confirm"]
    compare = login("admin").get(reverse("release_compare", args=["pipeline", "2.1.0", "2.4.0"]))
    assert f'href="{preview}"' in compare.content.decode()


def test_the_bar_costs_a_fixed_number_of_queries(login, history, django_assert_max_num_queries):
    client = login("rm-ana")
    health(client)
    # 16, plus the gates' open-incident read, the incident banner and the realized-skill
    # ledger's read.
    with django_assert_max_num_queries(19):
        assert health(client).status_code == 200
