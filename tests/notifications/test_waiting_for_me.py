"""The repository page says what waits for the person reading it: candidates they may
approve, and their own candidates with the step each waits for."""

import pytest
from django.urls import reverse

from releases import candidates
from tests.promotion.conftest import waive

pytestmark = pytest.mark.django_db


def panel(login, username: str) -> str:
    page = login(username).get(reverse("repository_overview", kwargs={"name": "pipeline"}))
    assert page.status_code == 200
    html = page.content.decode()
    start = html.find('data-testid="waiting-for-me"')
    return "" if start < 0 else html[start : html.find("</section>", start)]


def test_approvers_see_what_they_may_approve_and_creators_what_theirs_waits_for(
    candidate, users, login
):
    # This test repository has no manifest: its validation fails.
    assert "failed validation: re-run it after a fix" in panel(login, "rm-ana")
    assert panel(login, "rm-ben") == ""  # nothing to approve before it is validated

    waive(candidate, users)
    ben = panel(login, "rm-ben")
    assert "Waiting for you (1)" in ben and "Candidates you may approve" in ben
    assert f"/r/pipeline/candidates/{candidate.pk}/" in ben
    ana = panel(login, "rm-ana")  # its creator may not approve it
    assert "Candidates you may approve" not in ana and "waits for approvals" in ana
    assert "blocked by Approvals: 0 of 2" in ana  # the gate that blocks it, named
    assert "Candidates you may approve" in panel(login, "admin")
    assert panel(login, "viewer") == "" and panel(login, "analyst") == ""

    candidates.candidate_approve(candidate=candidate, actor=users["rm-ben"])
    assert panel(login, "rm-ben") == ""  # decided: no longer waiting for Ben
    candidates.candidate_approve(candidate=candidate, actor=users["admin"])
    assert "approved: ready to promote" in panel(login, "rm-ana")
