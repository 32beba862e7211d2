"""A local stand-in for GitHub's REST API, generated from GitHub's published contract.

Stoplight Prism (npm @stoplight/prism-cli) serves GitHub's OpenAPI description (npm
@octokit/openapi), both pinned in tests/package.json and installed by `make test`, on
127.0.0.1. Every request that breaks the description (path, method, parameters, body) is
answered 422 with the violations instead of an example response, so a request ewsdash
sends that GitHub would refuse fails the test that sent it; Prism's log says which
requests arrived and that each passed validation (`requests_since`). Not `--errors`: that
also checks Prism's own answers, and GitHub's published examples break GitHub's schemas
(the pull-request example's `requested_teams` lack `type`), so valid requests got a 500.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[1] / "node_modules"
PRISM = TOOLS / ".bin" / "prism"
DESCRIPTION = TOOLS / "@octokit" / "openapi" / "generated" / "api.github.com.json"
INSTALL = "npm ci --prefix tests (make test does)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrismGitHub:
    """One `prism mock` process; `url` is the API root to give ewsdash.

    With `upstream` it is `prism proxy` instead: each request is checked against the
    description, then forwarded to `upstream` (the stateful double,
    tests/support/github_double.py), whose answer is checked too on its way back;
    `exchanges_since` lists both verdicts."""

    def __init__(self, log_path: Path, upstream: str | None = None) -> None:
        self.log_path = log_path
        self.upstream = upstream
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180) -> PrismGitHub:
        for needed in (PRISM, DESCRIPTION):
            if not needed.exists():
                raise RuntimeError(f"{needed} is missing: install the test tools with {INSTALL}")
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(PRISM), "proxy" if self.upstream else "mock"]
                + ["--host", "127.0.0.1", "--port", str(self.port), str(DESCRIPTION)]
                + ([self.upstream] if self.upstream else []),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=TOOLS.parent,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while "Prism is listening" not in self.log():
            if self.process.poll() is not None:
                raise RuntimeError(f"prism exited ({self.process.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"prism did not listen within {timeout}s:\n{self.log()}")
            time.sleep(0.2)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def mark(self) -> int:
        """A position in the log; `requests_since` reads what came after it."""
        return len(self.log())

    def requests_since(self, mark: int) -> list[tuple[str, bool]]:
        """The requests that arrived after `mark`, as ("POST /repos/o/r/statuses/…", valid):
        valid when Prism's validator found the request matches GitHub's description."""
        seen: list[tuple[str, bool]] = []
        for line in self.log()[mark:].splitlines():
            if "[HTTP SERVER]" in line and "Request received" in line:
                method, path = line.split("[HTTP SERVER]", 1)[1].split()[:2]
                seen.append((f"{method.upper()} {path}", False))
            elif "[VALIDATOR]" in line and "passed the validation rules" in line and seen:
                seen[-1] = (seen[-1][0], True)
        return seen

    def exchanges_since(self, mark: int) -> list[tuple[str, list[str]]]:
        """Proxy mode: the requests that arrived after `mark`, each with the violations
        Prism found in it or in the double's answer ("request.body.state …",
        "response.body …"); an empty list means both met GitHub's description."""
        seen: list[tuple[str, list[str]]] = []
        for line in self.log()[mark:].splitlines():
            if "[HTTP SERVER]" in line and "Request received" in line:
                method, path = line.split("[HTTP SERVER]", 1)[1].split()[:2]
                seen.append((f"{method.upper()} {path}", []))
            elif "[VALIDATOR]" in line and "Violation:" in line and seen:
                seen[-1][1].append(line.split("Violation:", 1)[1].strip())
        return seen

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
