"""Shared fixtures: the fixed users of every role, a CSRF-enforcing client, git worlds."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from ewsdash.roles import ADMIN, ANALYST, RELEASE_MANAGER, VIEWER
from tests.support.github_double import GitHubDouble
from tests.support.gitrepo import GitWorld, basic_world
from tests.support.prism import PrismGitHub
from tests.support.worker import WorkerProcess

PASSWORD = "test-password-123"
# username -> role (None: signed in, but no role at all)
USERS = {
    "admin": ADMIN,
    "rm-ana": RELEASE_MANAGER,
    "rm-ben": RELEASE_MANAGER,
    "analyst": ANALYST,
    "viewer": VIEWER,
    "outsider": None,
}
ROLE_USERS = ["admin", "rm-ana", "analyst", "viewer", "outsider"]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items) -> None:
    """The longest tests first (slow, then browser, then worker), else in collected order.

    Under `--dist loadgroup` each ungrouped test is dispatched on its own, in this order,
    to whichever process is free: starting the long ones early keeps one of them from
    running alone at the end while the other process idles.
    """

    def lighter(item: pytest.Item) -> tuple[bool, ...]:
        return tuple(item.get_closest_marker(m) is None for m in ("slow", "browser", "worker"))

    items.sort(key=lighter)


@pytest.fixture
def role_groups(db) -> None:
    """The role groups the migration made; a transactional test may have flushed them, so
    rebuild them from the same table when they are missing."""
    if not Group.objects.exists():
        from django.apps import apps

        from ewsdash.roles import sync_role_groups

        sync_role_groups(apps)


@pytest.fixture
def users(django_user_model, role_groups) -> dict:
    made = {}
    for username, role in USERS.items():
        user = django_user_model.objects.create_user(
            username,
            email=f"{username}@ewsdash.example",
            password=PASSWORD,
            is_staff=(role == ADMIN),
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        made[username] = user
    # Everyone commits as their account's e-mail, confirmed by the admin.
    from django.utils import timezone

    from releases.models import GitIdentity

    for user in made.values():
        GitIdentity.objects.create(
            user=user, email=user.email, confirmed_by=made["admin"], confirmed_at=timezone.now()
        )
    return made


class CsrfClient(Client):
    """A client that enforces CSRF like a browser, and posts with the token it was given."""

    def __init__(self, **kwargs) -> None:
        super().__init__(enforce_csrf_checks=True, **kwargs)

    def post_form(self, url: str, data: dict | None = None, **kwargs):
        from django.middleware.csrf import _get_new_csrf_string

        token = self.cookies.get("csrftoken")
        if token is None:
            token_value = _get_new_csrf_string()
            self.cookies["csrftoken"] = token_value
        else:
            token_value = token.value
        return self.post(url, {**(data or {}), "csrfmiddlewaretoken": token_value}, **kwargs)


@pytest.fixture
def login(users):
    def make(username: str | None) -> CsrfClient:
        client = CsrfClient()
        if username:
            client.force_login(users[username])
        return client

    return make


@pytest.fixture(scope="session")
def world_template(tmp_path_factory) -> GitWorld:
    return basic_world(tmp_path_factory.mktemp("template") / "git")


@pytest.fixture
def world(world_template, tmp_path) -> GitWorld:
    """A fresh copy of the basic world (building it once saves ~40 git calls per test)."""
    return world_template.copy_to(tmp_path / "git")


@pytest.fixture
def empty_world(tmp_path) -> GitWorld:
    return GitWorld(tmp_path / "git")


@pytest.fixture
def registered(world, db):
    from releases import services, sync

    repository = services.repository_create(actor="test", name="pipeline", origin=str(world.origin))
    sync.repository_sync(repository=repository, actor="test")
    repository.refresh_from_db()
    return repository


@pytest.fixture(scope="session")
def github_api(tmp_path_factory):
    """GitHub's REST API as its published OpenAPI description defines it, served and
    enforced by Prism on 127.0.0.1 (tests/support/prism.py); one process per session."""
    prism = PrismGitHub(tmp_path_factory.mktemp("prism") / "prism.log").start()
    yield prism
    prism.stop()


@pytest.fixture
def github_mode(settings, github_api, monkeypatch):
    """Repositories in github mode talk to the local GitHub contract with a test token."""
    settings.EWSDASH_GITHUB_API_URL = github_api.url
    settings.EWSDASH_PUBLIC_URL = "https://ewsdash.example"
    # The same for a worker process started after this fixture (it reads the environment).
    monkeypatch.setenv("EWSDASH_GITHUB_API_URL", github_api.url)
    monkeypatch.setenv("EWSDASH_PUBLIC_URL", "https://ewsdash.example")
    monkeypatch.setenv("EWSDASH_GITHUB_TOKEN", "ghp_test_token_not_real")
    return github_api


@pytest.fixture(scope="session")
def github_contract(tmp_path_factory):
    """The stateful GitHub double (tests/support/github_double.py) behind Prism's
    validation proxy: requests and answers are both checked against GitHub's description."""
    double = GitHubDouble().start()
    prism = PrismGitHub(tmp_path_factory.mktemp("prism-proxy") / "prism.log", upstream=double.url)
    prism.start()
    prism.double = double  # type: ignore[attr-defined]
    yield prism
    prism.stop()
    double.stop()


@pytest.fixture
def github_forge(settings, github_contract, monkeypatch):
    """Repositories in github mode talk to the stateful double through the proxy; the test
    puts its bare origin behind a project with `github_forge.double.serve(...)`."""
    settings.EWSDASH_GITHUB_API_URL = github_contract.url
    settings.EWSDASH_PUBLIC_URL = "https://ewsdash.example"
    monkeypatch.setenv("EWSDASH_GITHUB_API_URL", github_contract.url)
    monkeypatch.setenv("EWSDASH_PUBLIC_URL", "https://ewsdash.example")
    monkeypatch.setenv("EWSDASH_GITHUB_TOKEN", "ghp_test_token_not_real")
    return github_contract


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """A real worker process (never eager mode) on the test database and broker."""
    from ewsdash.celery import app

    app.control.purge()
    worker = WorkerProcess(tmp_path / "worker.log").start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def attestation_key_file(tmp_path_factory):
    """One attestation key for the session (making one per test costs a key generation)."""
    from releases import signing

    path = tmp_path_factory.mktemp("attestation") / "key"
    signing.signing_key(path)
    return path


@pytest.fixture(autouse=True)
def isolated_folders(settings, tmp_path, attestation_key_file):
    """Each test clones into and writes artifacts under its own folders."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EWSDASH_CLONES_DIR = tmp_path / "clones"
    settings.EWSDASH_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.EWSDASH_AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.jsonl"
    settings.EWSDASH_ATTESTATION_KEY = attestation_key_file
    # `make demo` and the image run collectstatic for the hashed manifest; tests
    # serve the source files as they are.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Transactional tests empty every table with TRUNCATE between tests; on PostgreSQL
    the audit log's TRUNCATE guard would refuse. Only the test database turns that one
    trigger off (tests/test_audit.py turns it on again to check it); the UPDATE and
    DELETE guards stay on."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE releases_auditevent "
                    "DISABLE TRIGGER releases_auditevent_no_truncate"
                )
