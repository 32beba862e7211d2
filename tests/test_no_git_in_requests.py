"""No request that changes something waits on git or the network (issue 12): with every
way ewsdash runs git made to fail, creating a candidate, cutting a hotfix branch, merging
production into development, rolling back and setting a freeze all still answer, and
each git write is left to a worker as a queued operation."""

import subprocess
import time

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from releases import git, sync
from releases.clones import clone_dir
from releases.models import FreezeWindow, Operation

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_git(monkeypatch):
    """Every git command ewsdash could run in the request raises (and is counted)."""
    calls: list[str] = []

    def refuse(*args, **kwargs):
        calls.append(str(args[:3]))
        raise AssertionError("git ran inside a request")

    monkeypatch.setattr(git.GitRepo, "run", refuse)
    monkeypatch.setattr(git, "_run_with", refuse)
    monkeypatch.setattr(git, "clone_bare", refuse)
    real_popen = subprocess.Popen

    def popen(command, *args, **kwargs):
        if command and str(command[0]).endswith("git"):
            refuse(command)
        return real_popen(command, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)
    return calls


def url(name: str, **kwargs) -> str:
    return reverse(name, kwargs={"name": "pipeline", **kwargs})


CASES = [
    ("rm-ana", "candidate_create", {}, {"source": "development"}, "candidate_create"),
    ("rm-ana", "hotfix_cut", {}, {"name": "fix-countries"}, "hotfix_cut"),
    ("rm-ana", "back_merge", {}, {}, "back_merge"),
    (
        "admin",
        "rollback_confirm",
        {"version": "1.0.0"},
        {"confirm": "yes", "reason": "bad forecasts"},
        "rollback",
    ),
]


@pytest.mark.parametrize(("user", "view", "args", "data", "kind"), CASES)
def test_a_git_write_is_recorded_and_left_to_a_worker(
    registered,
    users,
    login,
    no_git,
    django_capture_on_commit_callbacks,
    user,
    view,
    args,
    data,
    kind,
):
    client = login(user)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post_form(url(view, **args), data)

    operation = Operation.objects.get()
    assert (operation.kind, operation.status) == (kind, "queued")
    assert response["Location"] == url("operation_detail", pk=operation.pk)
    assert no_git == []


def test_setting_a_freeze_needs_no_git(registered, users, login, no_git):
    response = login("admin").post_form(
        url("freeze_create"),
        {"starts_at": "2030-01-01 00:00", "ends_at": "2030-01-02 00:00", "reason": "audit"},
    )
    assert response.status_code == 302
    assert FreezeWindow.objects.filter(repository=registered).exists()
    assert no_git == []


def test_the_rollback_preview_does_not_wait_for_a_worker_holding_the_clone(
    registered, users, login, world
):
    """A worker fetching from a slow origin holds the clone's lock; the preview (a read of
    the clone) gives up after a moment instead of waiting for the network."""
    world.commit("fix: a later production change", files={"later.py": "x = 1\n"})
    world.push("production")
    sync.repository_sync(repository=registered)
    client = login("admin")
    with git.clone_lock(clone_dir("pipeline")):  # as the worker holds it mid-fetch
        started = time.monotonic()
        response = client.get(url("rollback_preview", version="1.0.0"))
        elapsed = time.monotonic() - started
    assert response.status_code == 302 and elapsed < 5
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "No preview yet: the repository's clone is busy (a worker is talking to the origin); "
        "try again in a moment."
    ]
    # Once the clone is free, the preview is there.
    assert client.get(url("rollback_preview", version="1.0.0")).status_code == 200
