"""The secrets key (monitoring/check_secrets.py): from the environment or a file, rotated."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from monitoring import check_secrets, runs
from monitoring.models import RepositorySecret
from tests.sandbox.conftest import hostile
from tests.validation_runs.conftest import commit_on

pytestmark = pytest.mark.django_db


def test_a_key_file_works_and_rotation_keeps_old_secrets_readable(
    registered, users, settings, tmp_path, world, no_enqueue
):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    key_file = tmp_path / "secrets.key"
    key_file.write_text(old + "\n")
    settings.EWSDASH_SECRETS_KEY = ""
    settings.EWSDASH_SECRETS_KEY_FILE = str(key_file)
    check_secrets.secret_set(
        repository=registered, name="VIEWSER_TOKEN", value="value-12345678", actor=users["admin"]
    )
    sha = commit_on(
        world,
        "development",
        "ci",
        {"ewsdash.toml": hostile("c", "true", extra='secrets = ["VIEWSER_TOKEN"]')},
    )
    run = runs.validation_run_start(
        repository=registered, commit=sha, actor="test", purpose="manual"
    )

    key_file.write_text(f"{new}\n{old}\n")  # the new key first: it encrypts from now on
    assert check_secrets.secrets_hand_out(run=run, check="c", names=["VIEWSER_TOKEN"]) == {
        "VIEWSER_TOKEN": "value-12345678"
    }
    out = io.StringIO()
    call_command("secrets", "rotate", stdout=out)
    assert out.getvalue() == "1 secrets re-encrypted under the first key.\n"
    key_file.write_text(new + "\n")  # the old key retired
    row = RepositorySecret.objects.get()
    assert Fernet(new).decrypt(row.ciphertext.encode()) == b"value-12345678"
    assert check_secrets.secrets_hand_out(run=run, check="c", names=["VIEWSER_TOKEN"])

    key_file.write_text(Fernet.generate_key().decode())  # a key that never encrypted it
    with pytest.raises(check_secrets.SecretsUnavailable, match="cannot be decrypted"):
        check_secrets.secrets_hand_out(run=run, check="c", names=["VIEWSER_TOKEN"])


def test_the_live_log_is_masked_while_the_check_runs(registered, monkeypatch):
    """The heartbeat writes the live log every second: masked like the final one."""
    import threading
    import types

    from monitoring import claims, execution
    from monitoring.models import CheckResult
    from monitoring.validation import LogSnapshot
    from monitoring.validation.masking import Masker
    from tests.validation_runs.factories import make_run

    run = make_run(status="running", checks=1)
    run.checks.update(status="queued")
    claim = claims.claim_take(check_id=run.checks.get().pk, worker="test")
    # The heartbeat runs in this thread (the test's transaction), so it must not close it.
    monkeypatch.setattr(execution, "connection", types.SimpleNamespace(close=lambda: None))
    beat = execution.Heartbeat(claim, interval=1)
    beat.masker = Masker({"VIEWSER_TOKEN": "value-12345678"})
    beat.report(LogSnapshot("", "token value-12345678\n", 21, 0, 0.5))
    threading.Timer(1.5, beat.stopped.set).start()

    beat.run()

    check = CheckResult.objects.get(pk=claim.check.pk)
    assert check.log == "token ***VIEWSER_TOKEN***\n"
    assert check.progress == "token ***VIEWSER_TOKEN***"  # the last line, shown on the page
