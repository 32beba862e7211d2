"""Settings are read from the environment strictly: a malformed value stops start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.tools import require_tool

BASE = Path(__file__).resolve().parent.parent


def run_check(env: dict, *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=BASE,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_DEBUG", "maybe"),
        ("DJANGO_ALLOWED_HOSTS", "a.example,,b.example"),
        ("DATABASE_URL", "mysql://db/ewsdash"),
        ("CELERY_BROKER_URL", "amqp://guest@localhost//"),
        ("EWSDASH_CLONES_DIR", "relative/path"),
        ("EWSDASH_SYNC_INTERVAL", "often"),
        ("EWSDASH_SKILL_TWCRPS_THRESHOLD", "high"),
        ("EWSDASH_SKILL_INTERVAL", "5"),
    ],
)
def test_it_refuses_a_malformed_variable_and_names_it(variable, value, tmp_path):
    result = run_check({variable: value, "EWSDASH_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert variable in result.stderr


def test_production_settings_pass_the_deploy_check(tmp_path):
    require_tool("bwrap", install="apt-get install -y bubblewrap")  # the sandbox check
    result = run_check(
        {
            "DJANGO_SECRET_KEY": "k" * 20 + "x9-Qz!vT#4pLw8@Yb2&Nc6^Rf1*Hd3%Jm5$Sa7",
            "DJANGO_DEBUG": "False",
            "DJANGO_ALLOWED_HOSTS": "ewsdash.example.org",
            "DJANGO_SECURE_HTTPS": "True",
            "EWSDASH_VAR_DIR": str(tmp_path),
        },
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_embedded_default_needs_no_configuration(tmp_path):
    result = run_check({"EWSDASH_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret-key").stat().st_mode & 0o077 == 0
