"""External tools some tests need: missing ones skip locally but fail in CI."""

from __future__ import annotations

import os
import shutil

import pytest


def require_tool(name: str, *, path: str | None = None, install: str) -> str:
    found = path if path and os.path.exists(path) else shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed ({install}; .ci/run installs it)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
