"""docker-compose.yml parses and runs the five services from one image."""

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.tools import require_tool

BASE = Path(__file__).resolve().parent.parent


def compose_config() -> dict:
    """The file as docker-compose itself resolves it (anchors, merges, variables)."""
    import yaml

    tool = require_tool("docker-compose", install="apt-get install -y docker-compose")
    env = {**os.environ, "DJANGO_SECRET_KEY": "compose-test"}
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


def test_compose_refuses_to_start_without_a_secret_key():
    tool = require_tool("docker-compose", install="apt-get install -y docker-compose")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    result = subprocess.run(
        [tool, "-f", "docker-compose.yml", "config", "-q"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


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
