"""docker-compose.yml parses and runs the five services from one image."""

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.tools import require_tool

BASE = Path(__file__).resolve().parent.parent
# What an operator's .env file holds (never docker-compose.yml itself).
COMPOSE_SECRETS = {
    "DJANGO_SECRET_KEY": "compose-test",
    "EWSDASH_AUDIT_KEY": "compose-test-audit-key-of-at-least-32-chars",
    "EWSDASH_DB_OWNER_PASSWORD": "owner-secret",
    "EWSDASH_DB_APP_PASSWORD": "app-secret",
}


def compose_config() -> dict:
    """The file as docker-compose itself resolves it (anchors, merges, variables)."""
    import yaml

    tool = require_tool("docker-compose", install="apt-get install -y docker-compose")
    env = {**os.environ, **COMPOSE_SECRETS}
    subprocess.run(
        [tool, "-f", "docker-compose.yml", "config", "-q"], cwd=BASE, env=env, check=True
    )
    text = subprocess.run(
        [tool, "-f", "docker-compose.yml", "config"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return yaml.safe_load(text)


def test_compose_file_is_valid_and_complete():
    config = compose_config()
    services = config["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    app_images = {services[name]["image"] for name in ("web", "worker", "beat")}
    assert app_images == {"ewsdash:latest"}
    for name in ("db", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert env["CELERY_BROKER_URL"].startswith("redis://")
        mounts = str(services[name]["volumes"])
        assert "/var/lib/ewsdash" in mounts, name


@pytest.mark.parametrize("missing", sorted(COMPOSE_SECRETS))
def test_compose_refuses_to_start_without_each_secret(missing):
    tool = require_tool("docker-compose", install="apt-get install -y docker-compose")
    env = {**os.environ, **COMPOSE_SECRETS}
    del env[missing]
    result = subprocess.run(
        [tool, "-f", "docker-compose.yml", "config", "-q"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert missing in result.stderr


def test_compose_takes_every_secret_from_the_environment_never_a_literal():
    text = (BASE / "docker-compose.yml").read_text()
    for value in COMPOSE_SECRETS.values():
        assert value not in text
    for name in COMPOSE_SECRETS:
        assert "${" + name + ":?" in text, name


def test_compose_migrates_as_the_owner_and_runs_the_app_as_another_role():
    services = compose_config()["services"]
    owner = services["db"]["environment"]["POSTGRES_USER"]
    migrate = services["migrate"]["environment"]
    assert migrate["DATABASE_URL"].startswith(f"postgresql://{owner}:owner-secret@")
    app_role = migrate["EWSDASH_DB_APP_ROLE"]
    assert app_role and app_role != owner
    assert services["db"]["environment"]["EWSDASH_DB_APP_ROLE"] == app_role
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith(f"postgresql://{app_role}:app-secret@"), name
        assert env["EWSDASH_AUDIT_KEY"] == COMPOSE_SECRETS["EWSDASH_AUDIT_KEY"], name
    init = [m for m in services["db"]["volumes"] if "docker-entrypoint-initdb.d" in str(m)]
    assert init, "the db service must create the application role"


def test_the_init_script_creates_a_login_role_that_owns_nothing():
    text = (BASE / "deploy" / "postgres-app-role.sh").read_text()
    assert 'CREATE ROLE :"app_role" LOGIN' in text
    assert "OWNER" not in text and "SUPERUSER" not in text


@pytest.mark.parametrize("path", ["Dockerfile", "requirements.txt", "requirements-dev.txt"])
def test_dependency_files_pin_every_package(path):
    text = (BASE / path).read_text()
    if path == "Dockerfile":
        assert "pip install --no-cache-dir -r requirements.txt" in text
        return
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "-r")):
            assert "==" in line, f"{path}: {line} is not pinned"
