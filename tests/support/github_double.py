"""A stateful stand-in for the part of GitHub's REST API ewsdash uses, backed by a real
bare git repository, on 127.0.0.1.

Prism (tests/support/prism.py) serves GitHub's published description and checks every
request against it, but it answers with canned examples: a pull request it "merged"
merged nothing. This double keeps state instead: pull requests are opened between real
branches of a real bare repository, merging one writes a real merge commit (first parent
the base branch's head, second the pull request's head: what `git merge --no-ff` makes)
and moves the base branch, with GitHub's refusals (409 when the head moved since `sha`,
405 when it is already merged or does not merge cleanly, 422 for an unknown branch or
commit). Commit statuses and reviews are recorded and listed.

It does not check requests itself: `GitHubContract` (tests/support/prism.py) puts Prism's
validation proxy in front of it, so every request ewsdash sends is checked against the
description on its way here, and every answer from here on its way back. Answers are
built from the description too: the smallest instance of the documented response schema
(`tests/api/github_schemas.minimal`), overlaid with the double's state, so a client that
reads a documented field finds it.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.api.github_schemas import minimal
from tests.support.gitrepo import BASE_ENV
from tests.support.prism import DESCRIPTION

MERGER = {"GIT_AUTHOR_NAME": "GitHub", "GIT_AUTHOR_EMAIL": "noreply@github.com"}


@cache
def rest_description() -> dict[str, Any]:
    return json.loads(Path(DESCRIPTION).read_text())


def documented(path: str, method: str, status: int, state: dict[str, Any] | list) -> Any:
    """GitHub's documented answer for (path template, method, status), overlaid with `state`."""
    doc = rest_description()
    response = doc["paths"][path][method]["responses"][str(status)]
    while "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    schema = response["content"]["application/json"]["schema"]
    if isinstance(state, list):
        return state
    return _overlay(minimal(schema, doc=doc), state)


def _overlay(base: Any, state: dict[str, Any]) -> Any:
    if not isinstance(base, dict):
        return state
    merged = dict(base)
    for key, value in state.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _overlay(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class Pull:
    number: int
    head: str
    base: str
    title: str
    body: str
    state: str = "open"
    merged: bool = False
    merge_commit: str = ""
    reviews: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Project:
    """One "owner/repo" and the bare repository behind it."""

    name: str
    bare: Path
    protected: set[str] = field(default_factory=set)
    pulls: dict[int, Pull] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            ["git", "--git-dir", str(self.bare), *args],
            env={**BASE_ENV, "PATH": "/usr/bin:/bin", **(env or {})},
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise GitFailed(result.stderr.strip() or result.stdout.strip())
        return result.stdout.strip()

    def branch_head(self, branch: str) -> str | None:
        try:
            return self.git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")
        except GitFailed:
            return None

    def has_commit(self, sha: str) -> bool:
        try:
            self.git("cat-file", "-e", f"{sha}^{{commit}}")
            return True
        except GitFailed:
            return False


class GitFailed(Exception):
    pass


class Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


ROUTES: list[tuple[str, re.Pattern[str], str, str]] = [
    # method, path pattern, description's path template, handler
    (
        "POST",
        re.compile(r"^/repos/(?P<p>[^/]+/[^/]+)/statuses/(?P<sha>[0-9a-f]+)$"),
        "/repos/{owner}/{repo}/statuses/{sha}",
        "status_create",
    ),
    (
        "POST",
        re.compile(r"^/repos/(?P<p>[^/]+/[^/]+)/pulls$"),
        "/repos/{owner}/{repo}/pulls",
        "pull_create",
    ),
    (
        "GET",
        re.compile(r"^/repos/(?P<p>[^/]+/[^/]+)/pulls/(?P<n>\d+)$"),
        "/repos/{owner}/{repo}/pulls/{pull_number}",
        "pull_get",
    ),
    (
        "PUT",
        re.compile(r"^/repos/(?P<p>[^/]+/[^/]+)/pulls/(?P<n>\d+)/merge$"),
        "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
        "pull_merge",
    ),
    (
        "GET",
        re.compile(r"^/repos/(?P<p>[^/]+/[^/]+)/pulls/(?P<n>\d+)/reviews$"),
        "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
        "reviews_list",
    ),
    (
        "GET",
        re.compile(r"^/repos/(?P<p>[^/]+/[^/]+)/branches/(?P<branch>.+)$"),
        "/repos/{owner}/{repo}/branches/{branch}",
        "branch_get",
    ),
]


class GitHubDouble:
    """The server; `serve(project, bare)` puts a bare repository behind "owner/repo"."""

    def __init__(self) -> None:
        self.projects: dict[str, Project] = {}
        self.lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self) -> None:
                double.handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> GitHubDouble:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def serve(self, project: str, bare: Path, *, protected: tuple[str, ...] = ()) -> Project:
        with self.lock:
            self.projects[project] = Project(project, Path(bare), protected=set(protected))
            return self.projects[project]

    def review(self, project: str, number: int, *, login: str, state: str, commit: str) -> None:
        """Someone reviews a pull request on GitHub (the test plays the person)."""
        with self.lock:
            pull = self.projects[project].pulls[number]
            pull.reviews.append(
                {"id": 1000 + len(pull.reviews), "login": login, "state": state, "commit": commit}
            )

    # -- the HTTP side -------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        path = request.path.split("?", 1)[0]
        status, body = 404, {"message": "Not Found"}
        if not request.headers.get("Authorization", "").split(" ")[-1]:
            status, body = 401, {"message": "Requires authentication"}
        else:
            for method, pattern, template, handler in ROUTES:
                found = pattern.match(path)
                if method != request.command or not found:
                    continue
                project = self.projects.get(found.group("p"))
                if project is None:
                    break
                try:
                    data = json.loads(raw) if raw else {}
                    with self.lock:
                        status, state = getattr(self, handler)(project, data, **_args(found))
                    body = documented(template, request.command.lower(), status, state)
                except Refusal as refusal:
                    status, body = refusal.status, {"message": refusal.message}
                break
        payload = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    # -- the endpoints ---------------------------------------------------------------------

    def status_create(self, project: Project, data: dict, *, sha: str) -> tuple[int, dict]:
        if not project.has_commit(sha):
            raise Refusal(422, f"No commit found for SHA: {sha}")
        status = {
            "id": len(project.statuses) + 1,
            "sha": sha,
            "state": data["state"],
            "description": data.get("description"),
            "context": data.get("context", "default"),
            "target_url": data.get("target_url"),
        }
        project.statuses.append(status)
        return 201, {k: v for k, v in status.items() if k != "sha"}

    def pull_create(self, project: Project, data: dict) -> tuple[int, dict]:
        for side in ("head", "base"):
            if project.branch_head(data[side]) is None:
                raise Refusal(422, f"Validation Failed: {side} {data[side]!r} does not exist")
        if any(
            p.head == data["head"] and p.base == data["base"] and p.state == "open"
            for p in project.pulls.values()
        ):
            raise Refusal(422, "Validation Failed: A pull request already exists")
        number = len(project.pulls) + 1
        pull = Pull(number, data["head"], data["base"], data["title"], data.get("body") or "")
        project.pulls[number] = pull
        return 201, self._pull(project, pull)

    def _pull(self, project: Project, pull: Pull) -> dict[str, Any]:
        return {
            "number": pull.number,
            "state": pull.state,
            "title": pull.title,
            "body": pull.body,
            "merged": pull.merged,
            "merge_commit_sha": pull.merge_commit or None,
            "head": {"ref": pull.head, "sha": project.branch_head(pull.head) or ""},
            "base": {"ref": pull.base, "sha": project.branch_head(pull.base) or ""},
        }

    def _find(self, project: Project, n: str) -> Pull:
        pull = project.pulls.get(int(n))
        if pull is None:
            raise Refusal(404, "Not Found")
        return pull

    def pull_get(self, project: Project, data: dict, *, n: str) -> tuple[int, dict]:
        return 200, self._pull(project, self._find(project, n))

    def pull_merge(self, project: Project, data: dict, *, n: str) -> tuple[int, dict]:
        pull = self._find(project, n)
        if pull.merged or pull.state != "open":
            raise Refusal(405, "Pull Request is not mergeable")
        head, base = project.branch_head(pull.head), project.branch_head(pull.base)
        if head is None or base is None:
            raise Refusal(405, "Pull Request is not mergeable")
        if data.get("sha") and data["sha"] != head:
            raise Refusal(409, "Head branch was modified. Review and try the merge again.")
        if data.get("merge_method", "merge") != "merge":
            raise Refusal(405, "This double merges with merge commits only.")
        try:
            tree = project.git("merge-tree", "--write-tree", base, head).splitlines()[0]
        except GitFailed:
            raise Refusal(405, "Pull Request is not mergeable") from None
        title = data.get("commit_title") or f"Merge pull request #{pull.number} from {pull.head}"
        message = f"{title}\n\n{data.get('commit_message') or pull.title}\n"
        env = {
            **MERGER,
            "GIT_COMMITTER_NAME": "GitHub",
            "GIT_COMMITTER_EMAIL": "noreply@github.com",
        }
        merge = project.git("commit-tree", tree, "-p", base, "-p", head, "-m", message, env=env)
        project.git("update-ref", f"refs/heads/{pull.base}", merge, base)
        pull.merged, pull.state, pull.merge_commit = True, "closed", merge
        project.merges.append({"number": pull.number, "merge": merge, "sha": data.get("sha")})
        return 200, {"sha": merge, "merged": True, "message": "Pull Request successfully merged"}

    def reviews_list(self, project: Project, data: dict, *, n: str) -> tuple[int, list]:
        pull = self._find(project, n)
        doc = rest_description()
        path = doc["paths"]["/repos/{owner}/{repo}/pulls/{pull_number}/reviews"]["get"]
        item = path["responses"]["200"]["content"]["application/json"]["schema"]["items"]
        return 200, [
            _overlay(
                minimal(item, doc=doc),
                {
                    "id": review["id"],
                    "user": {"login": review["login"]},
                    "state": review["state"],
                    "commit_id": review["commit"],
                },
            )
            for review in pull.reviews
        ]

    def branch_get(self, project: Project, data: dict, *, branch: str) -> tuple[int, dict]:
        head = project.branch_head(branch)
        if head is None:
            raise Refusal(404, "Branch not found")
        return 200, {
            "name": branch,
            "commit": {"sha": head},
            "protected": branch in project.protected,
        }


def _args(found: re.Match[str]) -> dict[str, str]:
    return {k: v for k, v in found.groupdict().items() if k != "p"}
