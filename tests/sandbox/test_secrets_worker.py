"""Secrets on a real Celery worker in the real sandbox (issue 17): the check gets the one it
names, the live and the stored log show it masked, the use is audited."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from monitoring import check_secrets, runs
from monitoring.models import CheckResult
from releases.models import AuditEvent
from tests.sandbox.conftest import hostile, needs_bwrap
from tests.support.worker import WorkerProcess, wait_for
from tests.validation_runs.conftest import commit_on

pytestmark = [needs_bwrap, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

VALUE = "worker-viewser-token-81c2"
KEY = Fernet.generate_key().decode()


@pytest.fixture
def keyed_worker(transactional_db, tmp_path, settings):
    from ewsdash.celery import app

    app.control.purge()
    settings.EWSDASH_SECRETS_KEY = KEY
    worker = WorkerProcess(tmp_path / "worker.log", env={"EWSDASH_SECRETS_KEY": KEY}).start()
    yield worker
    worker.stop()


def test_a_worker_hands_the_named_secret_and_masks_it(keyed_worker, registered, users, world):
    check_secrets.secret_set(
        repository=registered, name="VIEWSER_TOKEN", value=VALUE, actor=users["admin"]
    )
    manifest = hostile(
        "fetch",
        'echo "using $VIEWSER_TOKEN"; sleep 3; echo "$VIEWSER_TOKEN" > {artifacts}/token.txt',
        extra='secrets = ["VIEWSER_TOKEN"]',
    )
    sha = commit_on(world, "development", "ci: secret on a worker", {"ewsdash.toml": manifest})
    run = runs.validation_run_start(
        repository=registered, commit=sha, actor="test", purpose="manual"
    )
    check = run.checks.get()

    wait_for(
        lambda: "using" in CheckResult.objects.get(pk=check.pk).log,
        timeout=60,
        message="no live log",
    )
    live = CheckResult.objects.get(pk=check.pk)
    assert "using ***VIEWSER_TOKEN***" in live.log and VALUE not in live.log
    wait_for(
        lambda: CheckResult.objects.get(pk=check.pk).is_finished,
        timeout=60,
        message="the check never finished",
    )
    done = CheckResult.objects.get(pk=check.pk)
    assert done.status == "passed", done.log
    assert VALUE not in done.log
    assert done.details["masked_files"] == ["token.txt"]
    (event,) = AuditEvent.objects.filter(action="secret.used")
    assert (event.payload["check"], event.payload["names"]) == ("fetch", ["VIEWSER_TOKEN"])
