"""The Releases page, a release's detail page and the repository Overview."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(governed):
    """v1.0.0, a hotfix v1.0.1 development lacks, 1.0.1 twice, a feature-branch tag, bad tags."""
    w = governed.world
    governed.tag("v1.0.0")
    w.checkout("hotfix/a", new_from="production")
    w.commit("fix: <script>alert('hot')</script>", files={"hot.py": "x = 1\n"})
    w.checkout("production")
    w.merge("hotfix/a", message="Merge branch 'hotfix/a' into production")
    governed.tag("v1.0.1")
    governed.tag("1.0.1")
    w.commit("chore: after the release", files={"after.py": "y = 1\n"})
    w.checkout("feature/x", new_from="development")
    w.commit("feat: <b>bold</b> idea", files={"f.py": "z = 1\n"})
    governed.tag("v2.0.0-rc.1")
    w.checkout("development")
    w.merge("feature/x", message="Merge branch 'feature/x' into development")
    w.checkout("production")
    governed.tag("<svg>x")
    governed.tag("v1.2")
    governed.push()
    governed.sync()
    return governed


def get(login, name, **kwargs):
    response = login("viewer").get(reverse(name, kwargs={"name": "pipeline", **kwargs}))
    assert response.status_code == 200
    return response.content.decode()


def test_the_releases_page_lists_versions_newest_first_with_their_facts(history, login):
    page = get(login, "release_list")
    order = [page.index(f'data-version="{v}"') for v in ("2.0.0-rc.1", "1.0.1", "1.0.0")]
    assert order == sorted(order)
    assert page.count('data-testid="release-row"') == 3
    assert page.count('data-testid="live-badge"') == 1
    assert 'data-testid="not-on-production"' in page  # the feature-branch pre-release
    assert 'data-testid="other-tag"' in page  # 1.0.1 beside v1.0.1
    assert 'data-testid="commits-past"' in page
    assert history.release("1.0.1").commit[:8] in page


def test_the_releases_page_lists_tags_that_are_not_releases(history, login):
    page = get(login, "release_list")
    assert page.count('data-testid="not-semver-row"') == 2
    assert "incomplete version" in page


def test_markup_in_tags_and_subjects_is_escaped(history, login):
    for page in (
        get(login, "release_list"),
        get(login, "repository_overview"),
        get(login, "release_detail", version="1.0.1"),
    ):
        assert "<script>alert" not in page and "<svg>x" not in page
        assert "<b>bold</b>" not in page
    assert "&lt;svg&gt;x" in get(login, "release_list")
    assert "&lt;script&gt;alert" in get(login, "repository_overview")


def test_the_release_page_shows_commit_tags_and_changelog(history, login):
    page = get(login, "release_detail", version="1.0.1")
    release = history.release("1.0.1")
    assert release.commit in page
    assert "v1.0.1" in page and "1.0.1" in page
    changelog = page[page.index('data-testid="release-changelog"') :]
    assert "&lt;script&gt;alert(&#x27;hot&#x27;)&lt;/script&gt;" in changelog
    assert 'data-testid="backport-row"' in page


def test_a_release_can_be_named_with_its_v(history, login):
    assert "v1.0.0" in get(login, "release_detail", version="v1.0.0")


def test_an_unknown_release_is_404(history, login):
    url = reverse("release_detail", kwargs={"name": "pipeline", "version": "9.9.9"})
    assert login("viewer").get(url).status_code == 404


def test_the_overview_shows_live_release_next_version_and_back_ports(history, login):
    page = get(login, "repository_overview")
    assert 'data-testid="live-release"' in page and "1 commit past v1.0.1" in page
    assert 'data-testid="next-version-tag">v2.0.0<' in page  # rc.1 is finalised
    assert page.count('data-testid="backport-row"') == 2  # the hotfix and the chore
    assert 'data-testid="backport-stale"' in page  # the test world's dates are long past


def test_pages_before_the_first_sync_say_so(governed, login):
    governed.push()
    from releases import services

    services.repository_create(actor="test", name="pipeline", origin=str(governed.world.origin))
    assert "No releases recorded" in get(login, "release_list")
    assert "Not synced yet" in get(login, "repository_overview")


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("release_list", {}), ("release_detail", {"version": "1.0.1"}), ("repository_overview", {})],
)
def test_pages_make_a_fixed_number_of_queries(
    history, login, django_assert_max_num_queries, name, kwargs
):
    client = login("viewer")
    url = reverse(name, kwargs={"name": "pipeline", **kwargs})
    client.get(url)  # warm the session and permission caches
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200
    # Many more releases and back-ports cost no extra query.
    from releases.models import BackportItem, Release

    Release.objects.bulk_create(
        Release(
            repository=history.repository,
            version=f"0.{n}.0",
            tag=f"v0.{n}.0",
            tags=[f"v0.{n}.0"],
            commit="0" * 40,
            kind="imported",
            on_production=True,
        )
        for n in range(40)
    )
    BackportItem.objects.bulk_create(
        BackportItem(
            repository=history.repository,
            commit=f"{n:040d}",
            subject="s",
            release=history.release("1.0.1"),
        )
        for n in range(40)
    )
    with django_assert_max_num_queries(12):
        assert client.get(url).status_code == 200


def test_a_long_history_is_paged_newest_first(history, login):
    from releases.models import Release

    Release.objects.bulk_create(
        Release(
            repository=history.repository,
            version=f"0.{n}.0",
            tag=f"v0.{n}.0",
            tags=[f"v0.{n}.0"],
            commit="0" * 40,
            kind="imported",
            on_production=True,
        )
        for n in range(120)
    )
    client = login("viewer")
    url = reverse("release_list", kwargs={"name": "pipeline"})
    first = client.get(url).content.decode()
    assert first.count('data-testid="release-row"') == 50
    assert 'data-testid="release-pager"' in first and "Page 1 of" in first
    last = client.get(url, {"page": 99}).content.decode()  # past the end: the last page
    assert 'data-version="0.0.0"' in last
