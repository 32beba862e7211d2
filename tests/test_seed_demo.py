"""`seed_demo`: the demo repository, registered and synced, and one user per role."""

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from ewsdash.roles import role_of
from releases.models import Branch, Repository

# Sign-in goes through django-axes, which needs the request it throttles.
SIGN_IN = RequestFactory().post("/login/")

pytestmark = pytest.mark.django_db


def test_it_builds_registers_syncs_and_creates_the_demo_users(settings, tmp_path, role_groups):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", "--sync-here")
    repository = Repository.objects.get(name="views-pipeline")
    development = Branch.objects.get(repository=repository, name="development")
    assert (development.ahead_of_production, development.behind_production) == (11, 2)
    assert Branch.objects.filter(repository=repository, kind="hotfix").count() == 1
    assert Branch.objects.filter(repository=repository, kind="feature").count() >= 3
    roles = {
        name: role_of(authenticate(SIGN_IN, username=name, password="ewsdash-demo"))
        for name in ("admin", "rm-ana", "rm-ben", "analyst", "viewer")
    }
    assert roles == {
        "admin": "admin",
        "rm-ana": "release manager",
        "rm-ben": "release manager",
        "analyst": "analyst",
        "viewer": "viewer",
    }


def test_running_it_twice_keeps_one_repository_and_resets_passwords(
    settings, tmp_path, role_groups
):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", "--sync-here")
    user = get_user_model().objects.get(username="viewer")
    user.set_password("changed")
    user.save()
    call_command("seed_demo", "--sync-here")
    assert Repository.objects.count() == 1
    assert authenticate(SIGN_IN, username="viewer", password="ewsdash-demo") is not None


def test_no_demo_user_exists_before_it_runs():
    assert not get_user_model().objects.filter(username__in=["rm-ana", "viewer"]).exists()
