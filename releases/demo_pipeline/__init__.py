"""A demo governed repository: a small VIEWS-like forecasting pipeline with six months of history.

`build_demo_origin` writes a bare git origin that looks like a real pipeline team's:
production and development branches, feature, experiment and hotfix branches,
conventional commits by several authors, semver release tags, models with deployment
statuses, an `ewsdash.toml` validation manifest and a `run_inference.py` that writes
posterior-draw predictions and backtest metrics. `seed_demo` and the tests use it.

The story is in `history.py`; the files it commits are in `template/`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from . import history
from .history import PipelineScribe
from .scribe import run_git

__all__ = ["DemoOrigin", "build_demo_origin"]

# The story spans this many days and ends a few days before `today`.
STORY_DAYS = 181


@dataclass(frozen=True)
class DemoOrigin:
    """The bare origin and what a clone of it is expected to show."""

    path: Path
    production: str
    development: str
    branches: tuple[str, ...]
    tags: tuple[str, ...]
    latest_release: str
    next_version: str
    # `git rev-list --left-right --count production...development` gives (behind, ahead).
    development_ahead: int
    development_behind: int
    merged_branches: tuple[str, ...]
    # Branch name to the number of its commits development does not contain.
    open_branches: dict[str, int]
    hotfix_branch: str
    hotfix_commit: str  # on production since v1.2.1, not on development: a back-port item
    hotfix_subject: str
    # The branch whose head fixes the development regression (see `regressed_metric`).
    calibration_branch: str
    production_units: int
    development_units: int
    deployment_statuses: dict[str, str] = field(default_factory=dict)
    drifted_model: str = ""
    # (model, metric) worse on development than on production by 1.4-1.7% at every step.
    regressed_metric: tuple[str, str] = ("", "")
    author_emails: tuple[str, ...] = ()


def build_demo_origin(
    root: Path, *, name: str = "views-pipeline", today: date | None = None
) -> DemoOrigin:
    """Create `root / f"{name}.git"`, a bare origin holding the demo pipeline's history.

    Commit dates end a few days before `today` (default: the current UTC date), so the
    same `today` gives identical commit ids and any day gives identical trees.
    """
    root.mkdir(parents=True, exist_ok=True)
    bare = root / f"{name}.git"
    scratch = root / f"{name}.scratch"
    for path in (bare, scratch):
        if path.exists():
            raise FileExistsError(path)

    today = today or datetime.now(UTC).date()
    start = datetime.combine(today - timedelta(days=STORY_DAYS), time(0), tzinfo=UTC)
    clerk = history.MAJA
    run_git(["init", "-q", "--bare", str(bare)], cwd=root, who=clerk, when=start)
    run_git(["clone", "-q", str(bare), str(scratch)], cwd=root, who=clerk, when=start)
    try:
        scribe = PipelineScribe(scratch, template=history.TEMPLATE, start=start, clerk=clerk)
        history.write_history(scribe)
        scribe.git(
            "push",
            "-q",
            "--atomic",
            "origin",
            "refs/heads/*:refs/heads/*",
            "refs/tags/*:refs/tags/*",
        )
        hotfix_commit = scribe.git("rev-parse", history.HOTFIX)
        branches = tuple(
            scribe.git("for-each-ref", "--format=%(refname:short)", "refs/heads").splitlines()
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    return DemoOrigin(
        path=bare,
        production=history.PRODUCTION,
        development=history.DEVELOPMENT,
        branches=branches,
        tags=history.TAGS,
        latest_release=history.TAGS[-1],
        next_version=history.NEXT_VERSION,
        development_ahead=history.DEVELOPMENT_AHEAD,
        development_behind=history.DEVELOPMENT_BEHIND,
        merged_branches=history.MERGED_BRANCHES,
        open_branches=dict(history.OPEN_BRANCHES),
        hotfix_branch=history.HOTFIX,
        hotfix_commit=hotfix_commit,
        hotfix_subject=history.HOTFIX_SUBJECT,
        calibration_branch=history.CALIBRATION_FEATURE,
        production_units=history.PRODUCTION_UNITS,
        development_units=history.DEVELOPMENT_UNITS,
        deployment_statuses=dict(history.DEPLOYMENT_STATUSES),
        drifted_model=history.DRIFTED_MODEL,
        regressed_metric=history.REGRESSED_METRIC,
        author_emails=tuple(person.email for person in history.AUTHORS),
    )
