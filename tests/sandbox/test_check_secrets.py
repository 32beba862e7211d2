"""Secrets for checks (issue 17), handed to real checks in the real bwrap sandbox.

A check gets only the secrets its manifest entry names, as environment variables; what it
prints or writes of them is masked in the stored log, summary and artifacts; the value is
never in the database in clear; every hand-out is audited. The network is there only for
a check that declares it, and only where an admin allowed it.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from monitoring import check_secrets
from monitoring.artifacts import artifact_path
from monitoring.models import RepositorySecret
from releases.models import AuditEvent
from tests.sandbox.conftest import hostile, needs_bwrap, validate_inline
from tests.sandbox.test_sandbox_attacks import Listener

pytestmark = [needs_bwrap]

VALUE = "vw-Secret-9d2f41c7e0a8"
OTHER = "other-secret-5b77aa01"


@pytest.fixture
def secrets_key(settings) -> str:
    key = Fernet.generate_key().decode()
    settings.EWSDASH_SECRETS_KEY = key
    return key


@pytest.fixture
def with_secrets(registered, users, secrets_key):
    check_secrets.secret_set(
        repository=registered, name="VIEWSER_TOKEN", value=VALUE, actor=users["admin"]
    )
    check_secrets.secret_set(
        repository=registered, name="WANDB_API_KEY", value=OTHER, actor=users["admin"]
    )
    return registered


def uses_secret(extra: str = 'secrets = ["VIEWSER_TOKEN"]', run: str = "") -> str:
    digest = hashlib.sha256(VALUE.encode()).hexdigest()
    run = run or (
        'python -c "import os, hashlib; '
        f"assert hashlib.sha256(os.environ['VIEWSER_TOKEN'].encode()).hexdigest() == '{digest}'; "
        "assert 'WANDB_API_KEY' not in os.environ; print('token ok')\""
    )
    return hostile("fetch-data", run, extra=extra)


def test_a_check_uses_a_secret_it_names_without_printing_it(with_secrets, world, no_enqueue):
    run = validate_inline(with_secrets, world, uses_secret())

    check = run.checks.get()
    assert check.status == "passed", check.log
    assert "token ok" in check.log
    assert "masked_files" not in check.details


def test_a_check_that_prints_its_secret_has_it_masked(with_secrets, world, no_enqueue):
    printing = (
        'echo "token=$VIEWSER_TOKEN"; printf %s "$VIEWSER_TOKEN" | base64; '
        'echo "{\\"token\\": \\"$VIEWSER_TOKEN\\"}" > {artifacts}/config.json; '
        "echo fine > {artifacts}/plain.txt"
    )
    run = validate_inline(with_secrets, world, uses_secret(run=printing))

    check = run.checks.get()
    assert check.status == "passed", check.log
    encoded = base64.b64encode(VALUE.encode()).decode()
    assert VALUE not in check.log and encoded not in check.log
    assert "token=***VIEWSER_TOKEN***" in check.log
    assert check.log.count("***VIEWSER_TOKEN***") == 2  # as is, and in base64
    assert check.details["masked_files"] == ["config.json"]
    stored = {
        use.name: artifact_path(use.artifact.sha256).read_bytes()
        for use in check.artifacts.select_related("artifact")
    }
    assert stored["config.json"] == b'{"token": "***VIEWSER_TOKEN***"}\n'
    assert stored["plain.txt"] == b"fine\n"


def test_a_secret_is_never_in_the_database_in_clear(with_secrets, world, no_enqueue):
    validate_inline(with_secrets, world, uses_secret(run='echo "$VIEWSER_TOKEN"'))

    row = RepositorySecret.objects.get(name="VIEWSER_TOKEN")
    assert VALUE not in row.ciphertext
    assert Fernet(with_secrets_key()).decrypt(row.ciphertext.encode()).decode() == VALUE
    # Every table, every column: not the value, not its base64.
    needles = (VALUE, base64.b64encode(VALUE.encode()).decode())
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            for record in cursor.fetchall():
                text = " ".join(str(value) for value in record)
                assert not any(needle in text for needle in needles), table


def with_secrets_key() -> str:
    from django.conf import settings

    return settings.EWSDASH_SECRETS_KEY


def test_every_use_is_audited_with_the_run_the_check_and_the_names(with_secrets, world, no_enqueue):
    run = validate_inline(with_secrets, world, uses_secret())

    (event,) = AuditEvent.objects.filter(action="secret.used")
    assert event.payload["run"] == run.pk
    assert event.payload["check"] == "fetch-data"
    assert event.payload["names"] == ["VIEWSER_TOKEN"]
    assert event.payload["commit"] == run.commit
    assert VALUE not in str(event.payload)
    assert AuditEvent.objects.filter(action="secret.created").count() == 2


def test_a_missing_secret_errors_with_the_reason(with_secrets, world, no_enqueue):
    manifest = uses_secret(extra='secrets = ["VIEWSER_TOKEN", "MISSING_TOKEN"]')
    run = validate_inline(with_secrets, world, manifest)

    check = run.checks.get()
    assert check.status == "error"
    assert "MISSING_TOKEN" in check.summary and "does not have" in check.summary
    assert check.exit_code is None  # nothing ran
    assert AuditEvent.objects.filter(action="secret.used").count() == 0


def test_a_check_errors_when_the_key_is_gone(with_secrets, world, no_enqueue, settings):
    settings.EWSDASH_SECRETS_KEY = ""
    run = validate_inline(with_secrets, world, uses_secret())

    check = run.checks.get()
    assert check.status == "error"
    assert "No secrets key is configured" in check.summary


@pytest.mark.parametrize(
    ("declared", "allowed", "expected"),
    [
        (True, True, "connected"),
        (False, True, "refused"),
        (True, False, "error"),
        (False, False, "refused"),
    ],
)
def test_the_network_is_there_only_when_declared_and_allowed(
    registered, world, no_enqueue, declared, allowed, expected
):
    registered.sandbox_network = allowed
    registered.save(update_fields=["sandbox_network"])
    listener = Listener()
    try:
        manifest = hostile(
            "network",
            "python -c \"import socket; socket.create_connection(('127.0.0.1', "
            f"{listener.port}), timeout=5); print('CONNECTED')\"",
            extra="network = true" if declared else "",
        )
        run = validate_inline(registered, world, manifest, message=f"ci: {declared} {allowed}")
    finally:
        listener.close()
    check = run.checks.get()
    if expected == "connected":
        assert check.status == "passed", check.log
        assert listener.accepted == 1
    elif expected == "refused":
        assert check.status == "failed"
        assert "CONNECTED" not in check.log
        assert listener.accepted == 0
    else:
        assert check.status == "error"
        assert "declares network = true" in check.summary
        assert listener.accepted == 0
