"""The candidate pages: what each person sees and can press, refusals shown plainly."""

import re

import pytest
from django.urls import reverse

from releases.models import PromotionCandidate

pytestmark = pytest.mark.django_db


def page(client, candidate) -> str:
    response = client.get(
        reverse("candidate_detail", kwargs={"name": "pipeline", "pk": candidate.pk})
    )
    assert response.status_code == 200
    return response.content.decode()


def test_the_creator_is_told_why_they_cannot_approve(validated, login):
    html = page(login("rm-ana"), validated)
    assert 'data-testid="approve" disabled title="You created this candidate' in html
    assert "You created this candidate" in html


def test_promote_is_shown_disabled_naming_what_is_missing(validated, login):
    html = page(login("rm-ben"), validated)
    assert 'data-testid="promote" disabled title="Still missing: Approvals: 0 of 2."' in html
    assert 'data-testid="promote-refusal">Still missing: Approvals: 0 of 2.<' in html


def test_a_released_candidate_shows_its_final_state_not_red_gates(approved, login, users):
    from releases.models import Release

    approved.release = Release.objects.create(
        repository=approved.repository,
        version="1.1.0",
        tag="v1.1.0",
        commit=approved.commit,
        kind="promotion",
    )
    approved.status = "released"
    approved.promoted_by = users["rm-ben"]
    approved.save()
    html = page(login("rm-ben"), approved)
    assert 'data-testid="final-state"' in html and "promoted by rm-ben" in html
    assert 'data-testid="gates"' not in html and "gate-bad" not in html
    for button in ("approve", "reject", "promote", "cancel-candidate", "rerun-validation"):
        assert f'data-testid="{button}"' not in html


def test_a_refusal_returns_to_the_page_named_by_the_referer(validated, login):
    """Browsers send a full URL as Referer; the refusal lands there, not on the Overview."""
    client = login("rm-ana")
    detail = reverse("candidate_detail", kwargs={"name": "pipeline", "pk": validated.pk})
    response = client.post_form(
        reverse("candidate_approve", kwargs={"name": "pipeline", "pk": validated.pk}),
        {},
        HTTP_REFERER=f"http://testserver{detail}?tab=x",
    )
    assert response["Location"] == f"{detail}?tab=x"
    elsewhere = client.post_form(
        reverse("candidate_approve", kwargs={"name": "pipeline", "pk": validated.pk}),
        {},
        HTTP_REFERER="http://evil.example/phish",
    )
    assert elsewhere["Location"] == "/"


def test_another_release_manager_sees_approve_and_reject(validated, login):
    html = page(login("rm-ben"), validated)
    assert 'data-testid="approve"' in html and 'data-testid="reject"' in html


@pytest.mark.parametrize("username", ["analyst", "viewer"])
def test_readers_see_no_buttons(approved, login, username):
    html = page(login(username), approved)
    for button in ("approve", "reject", "promote", "waive", "rerun-validation"):
        assert f'data-testid="{button}"' not in html


def test_the_gates_checklist_shows_each_gate(approved, login):
    html = page(login("viewer"), approved)
    for gate in ("validation", "contains_production", "none_promoting", "no_freeze", "approvals"):
        assert f'data-gate="{gate}" data-ok="true"' in html
    assert "2 of 2" in html
    assert "waived: no manifest" in html


def test_a_refused_action_shows_its_reason_and_changes_nothing(validated, login):
    client = login("rm-ana")
    url = reverse("candidate_approve", kwargs={"name": "pipeline", "pk": validated.pk})
    response = client.post_form(
        url,
        {"next": reverse("candidate_detail", kwargs={"name": "pipeline", "pk": validated.pk})},
        follow=True,
    )
    assert "You created this candidate" in response.content.decode()
    assert not validated.approvals.exists()


def test_creating_from_the_page_follows_its_operation_to_the_new_candidate(
    repo, login, django_capture_on_commit_callbacks
):
    from releases import operation_runner
    from releases.models import Operation

    client = login("rm-ana")
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post_form(
            reverse("candidate_create", kwargs={"name": "pipeline"}),
            {"source": "development", "version": ""},
        )
    operation = Operation.objects.get()
    assert response["Location"] == reverse(
        "operation_detail", kwargs={"name": "pipeline", "pk": operation.pk}
    )
    operation_runner.operation_run(operation_id=operation.pk)
    candidate = PromotionCandidate.objects.get()
    html = client.get(response["Location"]).content.decode()
    link = reverse("candidate_detail", kwargs={"name": "pipeline", "pk": candidate.pk})
    assert f'data-testid="operation-candidate" href="{link}"' in html
    # The operation that created it is no promotion: the candidate's page does not say so.
    assert 'data-testid="promote-operation"' not in client.get(link).content.decode()


def test_a_bad_version_override_fails_its_operation_with_the_reason(repo, login):
    from releases import operation_runner
    from releases.models import Operation

    client = login("rm-ana")
    client.post_form(
        reverse("candidate_create", kwargs={"name": "pipeline"}),
        {"source": "development", "version": "0.1.0"},
    )
    operation = Operation.objects.get()
    operation_runner.operation_run(operation_id=operation.pk)
    html = client.get(
        reverse("operation_detail", kwargs={"name": "pipeline", "pk": operation.pk})
    ).content.decode()
    assert 'data-status="failed"' in html and "lower" in html
    assert not PromotionCandidate.objects.exists()


def test_the_changelog_is_escaped(login, registered, users):
    from tests.promotion.factories import make_candidate

    candidate = make_candidate()
    html = page(login("viewer"), candidate)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_pages_make_a_fixed_number_of_queries(
    approved, login, users, repo, django_assert_max_num_queries
):
    from releases.models import Approval

    client = login("viewer")
    # 12, plus the deciders' confirmed git identities, the incident banner, the incident
    # gate and the promote operation's progress.
    with django_assert_max_num_queries(16):
        page(client, approved)
    with django_assert_max_num_queries(13):
        assert client.get(reverse("candidate_list", kwargs={"name": "pipeline"})).status_code == 200
    assert Approval.objects.count() == 2


def test_the_list_shows_open_and_closed_candidates(approved, validated, login):
    html = (
        login("viewer").get(reverse("candidate_list", kwargs={"name": "pipeline"})).content.decode()
    )
    assert f'data-candidate="{approved.pk}"' in html


def test_an_active_freeze_shows_a_banner_on_every_page(repo, users, login):
    from datetime import timedelta

    from django.utils import timezone

    from releases import freezes

    freezes.freeze_create(
        repository=repo,
        actor=users["admin"],
        reason="election week",
        starts_at=timezone.now() - timedelta(minutes=1),
        ends_at=timezone.now() + timedelta(days=1),
    )
    client = login("viewer")
    for name in ("repository_overview", "branch_list", "candidate_list", "release_list"):
        html = client.get(reverse(name, kwargs={"name": "pipeline"})).content.decode()
        assert 'data-testid="freeze-banner"' in html and "election week" in html, name


def test_the_candidate_page_lists_regressions_worst_first_logs_closed(users, registered, login):
    """The same table as compare: production, candidate, change and tolerance, worst first;
    the performance check's log stays closed although the check failed."""
    from monitoring.models import CheckResult
    from tests.monitoring_pages.factories import seed_history

    history = seed_history(name="pipeline")
    run = history.candidate.validation_run
    assert run.reference == history.runs[-2]  # production's run, the live 2.4.0
    CheckResult.objects.filter(run=run).update(status="failed", log="x" * 5000)
    html = page(login("viewer"), history.candidate)
    section = html[html.index('data-testid="candidate-regressions"') :]
    assert "4 regressions beyond tolerance" in section
    first_row = section[section.index("<tbody>") : section.index("</tr>", section.index("<tbody>"))]
    assert "lr_bright_sky" in first_row and "crps" in first_row and "regressed" in first_row
    assert re.search(r'<details\s+data-testid="log-details">', html)
    assert 'open data-testid="log-details"' not in html


def test_cancel_is_shown_disabled_to_a_release_manager_who_did_not_create_it(validated, login):
    html = page(login("rm-ben"), validated)
    refusal = "Only the candidate&#x27;s creator or an admin can cancel it."
    assert f'data-testid="cancel-candidate" disabled title="{refusal}"' in html
    assert f'data-testid="cancel-refusal">{refusal}<' in html
    # Reject and re-run are usable now: no refusal beside them.
    assert 'data-testid="reject"' in html and 'data-testid="reject-refusal"' not in html
    assert re.search(r'data-testid="rerun-validation"\s*>Re-run validation<', html)
    assert 'data-testid="rerun-refusal"' not in html


def test_reject_rerun_and_cancel_are_shown_disabled_during_a_promotion(validated, login):
    PromotionCandidate.objects.filter(pk=validated.pk).update(status="promoting")
    validated.refresh_from_db()
    html = page(login("rm-ana"), validated)
    reject = "The promotion is under way; it cannot be rejected now."
    assert f'data-testid="reject-open" disabled title="{reject}"' in html
    assert f'data-testid="reject-refusal">{reject}<' in html
    assert 'data-testid="reject"' not in html  # no reason field, no form to submit
    rerun = "Validation cannot start again while promoting."
    assert f'data-testid="rerun-validation" disabled title="{rerun}"' in html
    assert f'data-testid="rerun-refusal">{rerun}<' in html
    cancel = "The promotion is under way; it cannot be cancelled now."
    assert f'data-testid="cancel-candidate" disabled title="{cancel}"' in html
    assert f'data-testid="cancel-refusal">{cancel}<' in html
