"""The Branches page: production vs development at a glance, then every branch."""

import pytest
from django.urls import reverse

from releases.models import AuditEvent

pytestmark = pytest.mark.django_db


def page(client, name="pipeline") -> str:
    response = client.get(reverse("branch_list", kwargs={"name": name}))
    assert response.status_code == 200
    return response.content.decode()


def test_it_says_how_far_development_is_behind_production(login, registered):
    html = page(login("viewer"))
    assert "Development is 2 commits behind production" in html


def test_it_lists_every_branch_with_kind_and_divergence(login, registered, world):
    html = page(login("viewer"))
    for name in (
        "production",
        "development",
        "feature/drift",
        "feature/open-work",
        "hotfix/urgent",
    ):
        assert f'data-branch="{name}"' in html
    ahead, behind = world.divergence("development", "feature/open-work")
    assert f'<span class="ahead">{ahead}</span>' in html
    assert "fix: second commit in review" in html


def test_subjects_and_branch_names_are_escaped(login, registered, world):
    world.checkout("development")
    world.checkout("feature/<svg/onload=alert(1)>", new_from="development")
    world.commit('feat: <script>alert("owned")</script>')
    world.push_all()
    from releases import sync

    sync.repository_sync(repository=registered)
    html = page(login("viewer"))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;" in html
    assert "<svg/onload" not in html
    assert "feature/&lt;svg/onload=alert(1)&gt;" in html


def test_viewers_see_no_sync_button_and_release_managers_do(login, registered):
    assert 'data-testid="sync-now"' not in page(login("viewer"))
    assert 'data-testid="sync-now"' not in page(login("analyst"))
    assert 'data-testid="sync-now"' in page(login("rm-ana"))


def test_sync_now_audits_and_enqueues_on_commit(
    login, registered, django_capture_on_commit_callbacks
):
    client = login("rm-ana")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post_form(reverse("sync_now", kwargs={"name": "pipeline"}))
    assert response.status_code == 302
    assert "since=" in response["Location"]
    # The task is sent only once the audit event is committed (as is its anchor).
    assert len([c for c in callbacks if "enqueue_on_commit" in c.__qualname__]) == 1
    event = AuditEvent.objects.get(action="repository.sync_requested")
    assert event.actor_name == "rm-ana"


def test_the_page_polls_until_the_sync_attempt_is_newer(login, registered):
    client = login("rm-ana")
    url = reverse("branch_list", kwargs={"name": "pipeline"})
    waiting = client.get(url, {"since": "2999-01-01T00:00:00+00:00"}).content.decode()
    assert 'hx-trigger="every 1s"' in waiting
    done = client.get(url, {"since": "2000-01-01T00:00:00+00:00"}).content.decode()
    assert "hx-trigger" not in done


def test_a_sync_error_is_shown_on_the_page(login, registered, world):
    import shutil

    from releases import sync

    shutil.rmtree(world.origin)
    sync.repository_sync(repository=registered)
    html = page(login("viewer"))
    assert "The last sync failed" in html
    assert "does not appear to be a git repository" in html


def test_the_layout_shows_the_user_and_role(login, registered):
    html = page(login("rm-ana"))
    assert 'data-testid="signed-in-user">rm-ana<' in html
    assert "release manager" in html
    for label in ("Overview", "Branches", "Candidates", "Releases", "Monitoring", "Audit"):
        assert f">{label}</a>" in html


def test_the_page_makes_a_fixed_number_of_queries(
    login, registered, world, django_assert_max_num_queries
):
    client = login("viewer")
    for index in range(30):
        world.checkout(f"feature/many-{index}", new_from="development")
    world.push_all()
    from releases import sync

    sync.repository_sync(repository=registered)
    with django_assert_max_num_queries(10):
        page(client)
