"""The Overview of a views-models-like repository stays short (issue 14): hundreds of
commits not yet on production, most of them a bot's or one-word subjects, fold away; the
page is at most 4,000 px tall by default, measured in Chromium."""

import subprocess

import pytest

from releases import services, sync
from tests.browser.conftest import shoot, sign_in
from tests.support.gitrepo import BASE_ENV, GitWorld

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAX_HEIGHT_PX = 4_000
ONE_WORD = ["update", "changes", "wip", "fix", "typo", "cleanup", "test", "merge"]
MODELS = [f"{adjective}_{noun}" for adjective in ("bright", "calm", "dark", "eager", "fancy")
          for noun in ("sky", "sea", "fox", "owl", "pasta", "river")]  # fmt: skip


def fast_import(world: GitWorld, branch: str, parent: str, commits: list[tuple]) -> None:
    """Append commits (author, email, subject, path) to `branch` from `parent` in one
    git fast-import: hundreds of commits in well under a second."""
    stream = []
    for i, (author, email, subject, path) in enumerate(commits):
        when = 1_760_000_000 + 600 * i
        message = subject.encode()
        content = f"{path} {i}\n".encode()
        stream += [
            f"commit refs/heads/{branch}".encode(),
            f"author {author} <{email}> {when} +0000".encode(),
            f"committer {author} <{email}> {when} +0000".encode(),
            f"data {len(message)}".encode(),
            message,
            *([f"from {parent}".encode()] if i == 0 else []),
            f"M 100644 inline {path}".encode(),
            f"data {len(content)}".encode(),
            content,
            b"",
        ]
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=world.work,
        input=b"\n".join(stream) + b"\n",
        env={**BASE_ENV, "PATH": "/usr/bin:/bin"},
        check=True,
    )


@pytest.fixture
def views_models(tmp_path):
    """production released as v0.2.0 and 40 fixes since that development lacks;
    development 460 commits
    ahead: 260 bot commits, 80 one-word subjects, 120 conventional commits of every type
    on the models."""
    world = GitWorld(tmp_path / "git", production="main", development="development")
    world.commit("chore: initial models", files={"README.md": "views-models\n"})
    world.git("tag", "-a", "-m", "v0.2.0", "v0.2.0")
    base = world.head()
    commits = []
    for i in range(460):
        model = MODELS[i % len(MODELS)]
        if i % 7 in (0, 2, 4, 6) and len([c for c in commits if "[bot]" in c[0]]) < 260:
            commits.append(
                (
                    "github-actions[bot]",
                    "41898282+github-actions[bot]@users.noreply.github.com",
                    "Automated changes by GitHub Actions",
                    f"models/{model}/README.md",
                )
            )
        elif i % 7 == 1 and i % 3:
            commits.append(("Maja", "maja@views.example", ONE_WORD[i % 8], f"models/{model}/x.py"))
        else:
            kind = ["feat", "fix", "docs", "chore", "refactor", "test", "ci"][i % 7]
            commits.append(
                (
                    "Tomas",
                    "tomas@views.example",
                    f"{kind}({model}): {kind} work on the {model} model's configs, step {i}",
                    f"models/{model}/configs/config_meta.py",
                )
            )
    fast_import(world, "development", base, commits)
    world.checkout("main")
    fast_import(
        world,
        "main",
        base,
        [
            ("Pat Author", "pat@views.example", f"fix: urgent production fix {i}", f"hot{i}.py")
            for i in range(40)
        ],
    )
    world.push_all()
    return world


def test_the_overview_of_a_views_models_like_repository_is_short(browser_page, users, views_models):
    repository = services.repository_create(
        actor="test",
        name="views-models",
        origin=str(views_models.origin),
        production_branch="main",
        development_branch="development",
    )
    sync.repository_sync(repository=repository)
    page = browser_page
    sign_in(page, "admin")
    page.goto("/r/views-models/")
    changelog = page.locator("[data-testid=next-changelog]")
    # Every change is there, the noise folded in one line, long groups collapsed.
    noise = changelog.locator("[data-testid=changelog-noise] summary").inner_text()
    assert noise.startswith("3") and "automated or one-word commits" in noise
    assert changelog.locator("[data-testid=changelog-more]").count() >= 2
    # The back-port ledger: ten rows open, the other 30 folded.
    assert page.locator("[data-testid=backports] > table [data-testid=backport-row]").count() == 10
    assert page.inner_text("[data-testid=backports-more] summary") == "30 more back-ports"
    height = page.evaluate("document.documentElement.scrollHeight")
    shoot(page, "overview-views-models")
    assert height <= MAX_HEIGHT_PX, f"the Overview is {height} px tall"
