"""Compare two releases (or production and a candidate) side by side."""

import pytest
from django.urls import reverse

from tests.monitoring_pages.factories import seed_history

pytestmark = pytest.mark.django_db


def compare(client, before, after):
    return client.get(reverse("release_compare", args=["pipeline", before, after]))


def test_it_shows_the_changelog_between_two_releases(login, history):
    response = compare(login("analyst"), "2.1.0", "2.3.0")
    html = response.content.decode()
    assert response.status_code == 200
    assert "change number 2" in html and "change number 3" in html
    assert "change number 1" not in html and "change number 4" not in html


def test_either_order_and_a_v_prefix_name_the_same_range(login, history):
    html = compare(login("analyst"), "v2.3.0", "2.1.0").content.decode()
    assert "change number 2" in html and "change number 3" in html
    assert "Compare v2.3.0 → v2.1.0" in html


def test_it_shows_metric_deltas_coloured_by_direction(login, history):
    html = compare(login("analyst"), "2.0.0", "2.4.0").content.decode()
    # Per step (all, 1, 2, 3): crps and mse fall (better), coverage falls too (higher is
    # better: worse, within the manifest's 5 %).
    assert html.count('data-verdict="better"') == 2 * 2 * 4
    assert html.count('data-verdict="worse"') == 2 * 4
    assert "no regression beyond tolerance" in html
    assert 'id="fig-deltas"' in html


def test_it_shows_the_validation_evidence_of_each_side(login, history):
    html = compare(login("analyst"), "2.0.0", "2.4.0").content.decode()
    for run in (history.runs[0], history.runs[4]):
        assert reverse("validation_run_detail", args=["pipeline", run.pk]) in html
    assert "within tolerance of production" in html


def test_a_candidate_is_compared_with_production_and_its_drift_shown(login, history):
    candidate = history.candidate
    response = login("viewer").get(
        reverse("candidate_compare", args=["pipeline", "2.4.0", candidate.pk])
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f"candidate #{candidate.pk} (2.5.0)" in html
    assert "candidate change" in html  # its own changelog
    assert reverse("drift_job_charts", args=["pipeline", history.jobs[0].pk]) in html
    assert html.count("drifted</span>") >= 2
    assert "verdict-worse" in html  # its crps of 9.0


def test_it_says_when_no_drift_job_compares_the_two(login, history):
    html = compare(login("analyst"), "2.0.0", "2.1.0").content.decode()
    assert "No finished drift job compares these two runs" in html


def test_a_release_without_a_run_has_no_evidence_and_no_deltas(login, history):
    html = compare(login("analyst"), "1.0.0", "2.0.0").content.decode()
    assert "No finished validation run for this release" in html
    assert "has no finished validation run" in html


def test_unknown_versions_are_404(login, history):
    assert compare(login("analyst"), "2.0.0", "9.9.9").status_code == 404
    assert compare(login("analyst"), "candidate-999", "2.0.0").status_code == 404


def test_the_release_list_and_candidate_page_link_here(login, history):
    client = login("analyst")
    releases = client.get(reverse("release_list", args=["pipeline"])).content.decode()
    assert reverse("release_compare", args=["pipeline", "2.4.0", "2.0.0"]) in releases
    candidate = client.get(reverse("candidate_detail", args=["pipeline", history.candidate.pk]))
    assert (
        reverse("candidate_compare", args=["pipeline", "2.4.0", history.candidate.pk])
        in candidate.content.decode()
    )


@pytest.mark.parametrize("releases", [3, 60])
def test_its_query_count_does_not_grow_with_the_history(
    login, registered, releases, django_assert_max_num_queries
):
    history = seed_history(releases=releases, drift_jobs=3)
    client = login("analyst")
    # 12, plus the open-incidents banner every page carries.
    with django_assert_max_num_queries(13):
        response = client.get(
            reverse("candidate_compare", args=["pipeline", "2.0.0", history.candidate.pk])
        )
    assert response.status_code == 200


def test_a_candidate_regression_is_listed_first_with_production_and_tolerance(login, history):
    """What changes in production if I promote: the candidate's crps of 9.0 at every step
    of lr_bright_sky, worst first, with production's value, the change and the tolerance."""
    candidate = history.candidate
    html = (
        login("viewer")
        .get(reverse("candidate_compare", args=["pipeline", "2.4.0", candidate.pk]))
        .content.decode()
    )
    count = html[html.index('data-testid="regression-count"') :]
    assert count.startswith('data-testid="regression-count">4 regressions beyond tolerance')
    table = html[html.index('data-testid="delta-table"') :]
    first = table[table.index("<tbody>") : table.index("</tr>", table.index("<tbody>"))]
    assert "lr_bright_sky" in first and "crps" in first and 'data-verdict="regressed"' in first
    assert "+" in first and "%" in first and "±0.04" in first  # 5 % of production's 0.96..
    assert "none relative" not in html and "5% relative" in html


def test_it_says_why_the_code_changes_are_unknown_for_commits_the_clone_lacks(login, history):
    html = compare(login("analyst"), "2.0.0", "2.4.0").content.decode()
    assert 'data-testid="code-changes"' in html
    assert "sync the repository first" in html


def test_recorded_deployment_status_changes_show_when_git_cannot_answer(login, history):
    html = compare(login("analyst"), "2.0.0", "2.4.0").content.decode()
    changes = html[html.index('data-testid="status-changes"') :]
    assert changes.startswith('data-testid="status-changes"><li><span class="mono">lr_bright_sky')
    assert "shadow → <b>deployed</b>" in changes[:300]
