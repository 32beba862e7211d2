"""The demo origin, checked with git itself and by running the pipeline it holds."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from releases.demo_pipeline import DemoOrigin, build_demo_origin
from releases.demo_pipeline.history import TEMPLATE

# One xdist worker runs the module, so its module-scoped origin and outputs are built once.
pytestmark = pytest.mark.xdist_group("demo_pipeline")

DASHBOARD_USER_EMAILS = {
    "admin@ewsdash.example",
    "rm-ana@ewsdash.example",
    "rm-ben@ewsdash.example",
    "analyst@ewsdash.example",
    "viewer@ewsdash.example",
}
CONVENTIONAL = re.compile(r"^(feat|fix|perf|docs|chore|test|build|ci|refactor)(\([a-z-]+\))?!?: \S")
# The template stores dot-files without their dot.
DOTFILES = {"gitignore": ".gitignore", "editorconfig": ".editorconfig"}
GIT_ENV = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True, text=True
    )
    return result.stdout.strip()


def succeeds(repo: Path, *args: str) -> bool:
    return (
        subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, capture_output=True).returncode == 0
    )


def checkout(origin: DemoOrigin, branch: str, into: Path) -> Path:
    git(origin.path.parent, "clone", "-q", "--branch", branch, str(origin.path), str(into))
    return into


def run_pipeline(worktree: Path) -> Path:
    out = worktree / "artifacts"
    subprocess.run(
        [sys.executable, "run_inference.py", "--out", str(out)],
        cwd=worktree,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out


def load_metrics(out: Path) -> dict[tuple[str, str, int], float]:
    rows = json.loads((out / "metrics.json").read_text())
    return {(row["model"], row["metric"], row["step"]): row["value"] for row in rows}


def relative_worsening(production: float, candidate: float, metric: str) -> float:
    change = (candidate - production) / production
    return -change if metric == "coverage" else change


# Fixed once so that a run across midnight still builds every origin for the same day.
TODAY = datetime.now(UTC).date()


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> DemoOrigin:
    return build_demo_origin(tmp_path_factory.mktemp("origin"), today=TODAY)


@pytest.fixture(scope="module")
def outputs(origin: DemoOrigin, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The pipeline's artefacts on production, development and the calibration branch."""
    base = tmp_path_factory.mktemp("checkouts")
    branches = (origin.production, origin.development, origin.calibration_branch)
    return {
        branch: run_pipeline(checkout(origin, branch, base / branch.replace("/", "_")))
        for branch in branches
    }


def commit_lines(origin: DemoOrigin, fmt: str, *revisions: str) -> Iterator[str]:
    yield from git(origin.path, "log", f"--format={fmt}", *(revisions or ("--all",))).splitlines()


class TestGitLayout:
    def test_it_creates_a_bare_origin_and_removes_the_scratch_clone(
        self, origin: DemoOrigin
    ) -> None:
        assert git(origin.path, "rev-parse", "--is-bare-repository") == "true"
        assert [path.name for path in origin.path.parent.iterdir()] == ["views-pipeline.git"]
        assert git(origin.path, "symbolic-ref", "HEAD") == "refs/heads/production"

    def test_it_has_the_stated_branches_and_no_main(self, origin: DemoOrigin) -> None:
        heads = set(
            git(origin.path, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()
        )
        assert heads == set(origin.branches)
        assert {"production", "development", origin.hotfix_branch} <= heads
        assert set(origin.merged_branches) | set(origin.open_branches) <= heads
        assert "main" not in heads
        assert any(name.startswith("experiment/") for name in heads)

    def test_releases_are_annotated_tags_on_production_merge_commits(
        self, origin: DemoOrigin
    ) -> None:
        assert git(origin.path, "tag", "--list", "--sort=v:refname").split() == list(origin.tags)
        assert origin.latest_release == "v1.2.1"
        for tag in origin.tags:
            assert git(origin.path, "cat-file", "-t", tag) == "tag"
            assert git(origin.path, "tag", "--list", "--format=%(taggeremail)", tag).endswith(
                "@views-pipeline.example>"
            )
            parents = git(origin.path, "rev-list", "--parents", "-n", "1", f"{tag}^{{commit}}")
            assert len(parents.split()) == 3, f"{tag} is not on a merge commit"
            assert succeeds(origin.path, "merge-base", "--is-ancestor", tag, "production")
            first_parent_line = git(origin.path, "rev-list", "--first-parent", "production")
            assert git(origin.path, "rev-parse", f"{tag}^{{commit}}") in first_parent_line

    def test_development_is_ahead_and_behind_production_by_the_stated_counts(
        self, origin: DemoOrigin
    ) -> None:
        counts = git(origin.path, "rev-list", "--left-right", "--count", "production...development")
        assert counts.split() == [str(origin.development_behind), str(origin.development_ahead)]
        assert origin.development_behind > 0 and origin.development_ahead > 0

    def test_the_hotfix_is_on_production_and_not_back_ported(self, origin: DemoOrigin) -> None:
        fix = origin.hotfix_commit
        assert git(origin.path, "log", "-1", "--format=%s", fix) == origin.hotfix_subject
        assert git(origin.path, "rev-parse", origin.hotfix_branch) == fix
        assert succeeds(origin.path, "merge-base", "--is-ancestor", fix, "v1.2.1")
        assert not succeeds(origin.path, "merge-base", "--is-ancestor", fix, "development")
        cherry_picks = git(origin.path, "log", "--grep=cherry picked from", "development")
        assert cherry_picks == ""

    def test_open_branches_are_ahead_and_merged_ones_are_not(self, origin: DemoOrigin) -> None:
        for branch, ahead in origin.open_branches.items():
            assert git(origin.path, "rev-list", "--count", f"development..{branch}") == str(ahead)
        for branch in origin.merged_branches:
            assert git(origin.path, "rev-list", "--count", f"development..{branch}") == "0"
            merges = git(origin.path, "log", "--merges", "--format=%s", "development")
            assert merges.splitlines().count(f"Merge branch '{branch}' into development") == 1


class TestCommits:
    def test_subjects_are_conventional_commits(self, origin: DemoOrigin) -> None:
        for subject in commit_lines(origin, "%s", "--all", "--no-merges"):
            assert CONVENTIONAL.match(subject), subject

    def test_unreleased_work_asks_for_a_minor_release(self, origin: DemoOrigin) -> None:
        types = {
            CONVENTIONAL.match(subject).group(1)  # type: ignore[union-attr]
            for subject in commit_lines(origin, "%s", "--no-merges", "production..development")
        }
        assert {"feat", "fix", "perf", "docs"} <= types
        bodies = git(origin.path, "log", "--format=%B", "production..development")
        assert "BREAKING CHANGE" not in bodies and "!:" not in bodies
        assert origin.next_version == "v1.3.0"

    def test_a_breaking_change_predates_the_first_release(self, origin: DemoOrigin) -> None:
        bodies = git(origin.path, "log", "--format=%B", "v1.0.0")
        assert "BREAKING CHANGE:" in bodies and "feat(inference)!:" in bodies

    def test_authors_are_several_pipeline_people_and_no_dashboard_user(
        self, origin: DemoOrigin
    ) -> None:
        emails = set(commit_lines(origin, "%ae%n%ce"))
        assert emails == set(origin.author_emails)
        assert len(emails) >= 4
        assert not emails & DASHBOARD_USER_EMAILS

    def test_dates_span_half_a_year_and_end_a_few_days_ago(self, origin: DemoOrigin) -> None:
        stamps = [int(stamp) for stamp in commit_lines(origin, "%at")]
        newest = datetime.fromtimestamp(max(stamps), UTC)
        oldest = datetime.fromtimestamp(min(stamps), UTC)
        assert timedelta(days=150) < newest - oldest < timedelta(days=200)
        assert timedelta(days=1) < datetime.now(UTC) - newest < timedelta(days=10)

    def test_every_commit_is_dated_after_its_parents(self, origin: DemoOrigin) -> None:
        dates = dict(line.split() for line in commit_lines(origin, "%H %ct"))
        for line in commit_lines(origin, "%H %P"):
            commit, *parents = line.split()
            assert all(int(dates[parent]) < int(dates[commit]) for parent in parents)


class TestContent:
    def test_deployment_statuses_on_development(self, origin: DemoOrigin) -> None:
        for model, status in origin.deployment_statuses.items():
            text = git(
                origin.path, "show", f"development:models/{model}/configs/config_deployment.py"
            )
            assert f'deployment_status = "{status}"' in text
            for name in ("config_meta.py", "config_hyperparameters.py"):
                git(origin.path, "cat-file", "-e", f"development:models/{model}/configs/{name}")
            git(origin.path, "cat-file", "-e", f"development:models/{model}/README.md")

    def test_statuses_change_between_releases(self, origin: DemoOrigin) -> None:
        def status(ref: str, model: str) -> str | None:
            path = f"{ref}:models/{model}/configs/config_deployment.py"
            if not succeeds(origin.path, "cat-file", "-e", path):
                return None
            return re.findall(r'deployment_status = "(\w+)"', git(origin.path, "show", path))[0]

        assert [status(tag, "orange_pasta") for tag in origin.tags[:2]] == ["shadow", "deployed"]
        assert [status(tag, "blank_space") for tag in origin.tags[1:3]] == [
            "deployed",
            "deprecated",
        ]
        assert [status(tag, "lavender_haze") for tag in origin.tags[:2]] == [None, "shadow"]

    def test_the_manifest_declares_the_four_checks(self, origin: DemoOrigin) -> None:
        for ref in ("production", "development"):
            manifest = tomllib.loads(git(origin.path, "show", f"{ref}:ewsdash.toml"))
            checks = manifest["check"]
            assert [check["kind"] for check in checks] == [
                "command",
                "inference",
                "performance",
                "drift",
            ]
            assert checks[2]["from"] == checks[3]["from"] == "inference"
            assert checks[2]["tolerance"] == 0.01 and checks[3]["required"] is False

    def test_development_holds_the_template_files_as_they_are(self, origin: DemoOrigin) -> None:
        for source in TEMPLATE.rglob("*"):
            relative = source.relative_to(TEMPLATE)
            if source.is_dir() or relative.parts[0] == "model" or "__pycache__" in relative.parts:
                continue
            path = DOTFILES.get(str(relative), str(relative))
            assert git(origin.path, "show", f"development:{path}") == source.read_text().strip(), (
                path
            )


class TestPipelineRun:
    def test_predictions_have_one_row_per_month_and_country_with_128_draws(
        self, origin: DemoOrigin, outputs: dict[str, Path]
    ) -> None:
        for branch, units in (
            (origin.production, origin.production_units),
            (origin.development, origin.development_units),
        ):
            files = sorted(outputs[branch].glob("predictions_*.parquet"))
            active = [m for m, s in origin.deployment_statuses.items() if s != "deprecated"]
            assert [f.name for f in files] == [f"predictions_{m}.parquet" for m in sorted(active)]
            for path in files:
                table = pq.read_table(path)
                assert table.schema.field("month_id").type == pa.int32()
                assert table.schema.field("country_id").type == pa.int32()
                assert table.schema.field("pred_lr_ged_sb").type == pa.list_(pa.float32())
                assert table.num_rows == 36 * units
                months = np.unique(table.column("month_id").to_numpy())
                assert months.tolist() == list(range(541, 577))
                assert len(np.unique(table.column("country_id").to_numpy())) == units
                draws = table.column("pred_lr_ged_sb").combine_chunks()
                lengths = np.diff(draws.offsets.to_numpy())
                assert (lengths == 128).all()
                assert float(np.min(draws.flatten().to_numpy())) >= 0.0

    def test_metrics_cover_every_model_metric_and_step(
        self, origin: DemoOrigin, outputs: dict[str, Path]
    ) -> None:
        rows = json.loads((outputs[origin.development] / "metrics.json").read_text())
        assert all(row.keys() == {"model", "target", "metric", "step", "value"} for row in rows)
        active = {m for m, s in origin.deployment_statuses.items() if s != "deprecated"}
        assert {row["model"] for row in rows} == active
        assert {row["metric"] for row in rows} == {"MSE", "MSLE", "CRPS", "coverage"}
        assert {row["step"] for row in rows} == set(range(1, 37))
        assert len(rows) == len(active) * 4 * 36

    def test_development_regresses_exactly_the_stated_metric_beyond_the_tolerance(
        self, origin: DemoOrigin, outputs: dict[str, Path]
    ) -> None:
        production = load_metrics(outputs[origin.production])
        development = load_metrics(outputs[origin.development])
        beyond = {
            key[:2]
            for key, value in production.items()
            if relative_worsening(value, development[key], key[1]) > 0.01
        }
        assert beyond == {origin.regressed_metric}
        model, metric = origin.regressed_metric
        changes = [
            relative_worsening(production[key], development[key], metric)
            for key in ((model, metric, step) for step in range(1, 37))
        ]
        assert all(0.01 < change < 0.05 for change in changes)

    def test_the_calibration_branch_is_within_the_tolerance(
        self, origin: DemoOrigin, outputs: dict[str, Path]
    ) -> None:
        production = load_metrics(outputs[origin.production])
        calibrated = load_metrics(outputs[origin.calibration_branch])
        assert all(
            relative_worsening(value, calibrated[key], key[1]) <= 0.01
            for key, value in production.items()
        )

    def test_only_the_drifted_model_forecasts_differently(
        self, origin: DemoOrigin, outputs: dict[str, Path]
    ) -> None:
        def mean_log_draws(branch: str, model: str) -> dict[tuple[int, int], float]:
            table = pq.read_table(outputs[branch] / f"predictions_{model}.parquet")
            draws = table.column("pred_lr_ged_sb").combine_chunks().flatten().to_numpy()
            means = np.log1p(draws).reshape(table.num_rows, -1).mean(axis=1)
            months = table.column("month_id").to_pylist()
            rows = zip(months, table.column("country_id").to_pylist(), strict=True)
            return dict(zip(rows, means.tolist(), strict=True))

        for model, status in origin.deployment_statuses.items():
            if status == "deprecated":
                continue
            production = mean_log_draws(origin.production, model)
            development = mean_log_draws(origin.development, model)
            common = production.keys() & development.keys()
            assert len(common) == 36 * origin.development_units
            shift = np.mean([abs(development[row] - production[row]) for row in common])
            if model == origin.drifted_model:
                assert shift > 0.05
            else:
                assert shift == 0.0, model

    def test_the_pipeline_unit_tests_pass(self, origin: DemoOrigin, tmp_path: Path) -> None:
        worktree = checkout(origin, origin.development, tmp_path / "tests")
        result = subprocess.run(
            [sys.executable, "-m", "unittest", "discover", "-s", "tests", "-q"],
            cwd=worktree,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr


class TestDeterminism:
    def test_trees_do_not_depend_on_the_day_and_commits_only_on_it(
        self, origin: DemoOrigin, tmp_path: Path
    ) -> None:
        again = build_demo_origin(tmp_path / "again", today=TODAY)
        later = build_demo_origin(tmp_path / "later", today=TODAY + timedelta(days=40))
        for branch in origin.branches:
            trees = {git(o.path, "rev-parse", f"{branch}^{{tree}}") for o in (origin, again, later)}
            assert len(trees) == 1, branch
            heads = {git(o.path, "rev-parse", branch) for o in (origin, again, later)}
            assert len(heads) == 2, branch

    def test_it_refuses_to_overwrite_an_existing_origin(self, tmp_path: Path) -> None:
        (tmp_path / "views-pipeline.git").mkdir()
        with pytest.raises(FileExistsError):
            build_demo_origin(tmp_path)
