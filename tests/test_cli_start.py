"""Commands start fast: the statistics and file engines load only where they run."""

import os
import subprocess
import sys
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent


def test_repo_status_starts_without_scipy_pyarrow_plotly_or_celery(tmp_path):
    # Its own SQLite database: on the PostgreSQL pass DATABASE_URL names the real database
    # (not the test one), which this test must neither need nor migrate.
    env = {
        **os.environ,
        "EWSDASH_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=BASE, env=env, check=True)
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "manage.py", "repo", "status", "nope", "--json"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
    )
    assert "No repository named 'nope'" in result.stderr
    loaded = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    for heavy in ("scipy", "pyarrow", "plotly", "celery"):
        assert heavy not in loaded, f"{heavy} is imported by `repo status`"
