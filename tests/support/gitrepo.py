"""Real git repositories for tests: a bare origin and a working clone that pushes to it."""

from __future__ import annotations

import os
import subprocess
from itertools import count
from pathlib import Path

BASE_ENV = {
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "LC_ALL": "C",
}


class GitWorld:
    """An origin (bare) plus a working clone; commits are made and pushed with git itself."""

    def __init__(
        self, root: Path, *, production: str = "production", development: str = "development"
    ) -> None:
        self.root = root
        self.origin = root / "origin.git"
        self.work = root / "work"
        self.production = production
        self.development = development
        self._clock = count(1)
        root.mkdir(parents=True, exist_ok=True)
        self.git_in(root, "init", "--quiet", "--bare", "-b", production, str(self.origin))
        self.git_in(root, "init", "--quiet", "-b", production, str(self.work))
        self.git("remote", "add", "origin", str(self.origin))

    def copy_to(self, root: Path) -> GitWorld:
        import copy
        import shutil

        shutil.copytree(self.root, root, symlinks=True)
        clone = copy.copy(self)
        clone.root, clone.origin, clone.work = root, root / "origin.git", root / "work"
        clone._clock = count(1000)
        clone.git("remote", "set-url", "origin", str(clone.origin))
        return clone

    def env(self, author: str = "Pat Author", email: str = "pat@pipeline.example") -> dict:
        stamp = f"{1_760_000_000 + next(self._clock) * 3600} +0000"
        return {
            **os.environ,
            **BASE_ENV,
            "GIT_AUTHOR_NAME": author,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": author,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
        }

    def git_in(self, cwd: Path, *args: str, **kw) -> str:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=kw.get("env") or self.env(),
            check=True,
            capture_output=True,
        )
        return result.stdout.decode("utf-8", "replace").strip()

    def git(self, *args: str, **kw) -> str:
        return self.git_in(self.work, *args, **kw)

    def commit(
        self,
        message: str | bytes,
        *,
        files: dict[str, str] | None = None,
        author: str = "Pat Author",
        email: str = "pat@pipeline.example",
    ) -> str:
        for name, text in (files or {}).items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            self.git("add", name)
        env = self.env(author, email)
        if isinstance(message, bytes):
            subprocess.run(
                ["git", "commit", "--quiet", "--allow-empty", "-F", "-"],
                cwd=self.work,
                env=env,
                input=message,
                check=True,
            )
        else:
            self.git("commit", "--quiet", "--allow-empty", "-m", message, env=env)
        return self.head()

    def head(self, ref: str = "HEAD") -> str:
        return self.git("rev-parse", ref)

    def checkout(self, branch: str, *, new_from: str | None = None) -> None:
        if new_from is not None:
            self.git("checkout", "--quiet", "-b", branch, new_from)
        else:
            self.git("checkout", "--quiet", branch)

    def merge(self, branch: str, *, message: str | None = None) -> str:
        self.git("merge", "--quiet", "--no-ff", "-m", message or f"Merge branch '{branch}'", branch)
        return self.head()

    def push(self, *refs: str) -> None:
        self.git("push", "--quiet", "--force", "origin", *(refs or ["--all"]))

    def push_all(self) -> None:
        self.git("push", "--quiet", "--force", "--all", "origin")
        self.git("push", "--quiet", "--force", "--tags", "origin")

    def delete_remote_branch(self, name: str) -> None:
        self.git("push", "--quiet", "origin", f":refs/heads/{name}")

    def origin_git(self, *args: str) -> str:
        return self.git_in(self.root, "--git-dir", str(self.origin), *args)

    def divergence(self, base: str, other: str) -> tuple[int, int]:
        behind, ahead = self.origin_git(
            "rev-list", "--left-right", "--count", f"{base}...{other}"
        ).split()
        return int(ahead), int(behind)


def basic_world(root: Path) -> GitWorld:
    """production (released as v1.0.0) ← development with two features, one merged, and a
    hotfix on production after the release."""
    world = GitWorld(root)
    world.commit("chore: initial pipeline", files={"README.md": "pipeline\n"})
    world.git("tag", "-a", "-m", "v1.0.0", "v1.0.0")  # the first release
    world.checkout("development", new_from="production")
    world.commit("feat(models): add purple_alien", files={"models/purple_alien/a.py": "x=1\n"})
    world.checkout("feature/drift", new_from="development")
    world.commit("feat: drift features", files={"features/drift.py": "y=2\n"})
    world.checkout("development")
    world.merge("feature/drift")
    world.checkout("feature/open-work", new_from="development")
    world.commit("fix: still in review", files={"wip.py": "z=3\n"})
    world.commit("fix: second commit in review", files={"wip.py": "z=4\n"})
    world.checkout("hotfix/urgent", new_from="production")
    world.commit("fix: urgent production fix", files={"hot.py": "h=1\n"})
    world.checkout("production")
    world.merge("hotfix/urgent")
    world.push_all()
    return world
