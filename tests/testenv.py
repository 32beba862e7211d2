"""Loaded with `-p tests.testenv` before Django starts: each run gets its own var/ folder.

Checks run in the bubblewrap sandbox. Where it cannot run (bwrap missing, no user
namespaces) a local run uses EWSDASH_SANDBOX=none, so `make test` works on a fresh machine
(the sandbox's own tests skip, saying why); in CI a missing sandbox fails those tests.

The embedded broker, the SQLite test database and the clones live under
var/test/run-<pid>, so a running `make demo`, a second suite and this one never
share a queue or a file.

Under pytest-xdist (`-n 2`) every worker process loads this module too, after xdist
has set PYTEST_XDIST_WORKER (gw0, gw1, ...). Each worker then gets its own folder
var/test/run-<pid>/<worker> (its own embedded broker file, SQLite test database and
clones) and, when the broker is Redis, its own database number: the base URL's number
plus the worker's index (redis://.../8 gives gw0 8, gw1 9). PostgreSQL test databases
get pytest-django's `_gw<N>` suffix.
"""

import atexit
import os
import re
import shutil
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
REDIS_DATABASES = 16  # redis.conf's default `databases`


def worker_index(worker: str) -> int:
    """gw0 -> 0, gw1 -> 1."""
    return int(worker.removeprefix("gw"))


def redis_url_for_worker(url: str, index: int) -> str:
    """The base URL's database number plus the worker's index."""
    match = re.fullmatch(r"(rediss?://[^/]*)(?:/(\d*))?(\?.*)?", url)
    if not match:
        return url
    prefix, number, query = match.group(1), match.group(2) or "0", match.group(3) or ""
    database = int(number) + index
    if database >= REDIS_DATABASES:
        raise RuntimeError(
            f"xdist worker {index} would use Redis database {database} of {url}; "
            f"start from a lower database number or run fewer workers"
        )
    return f"{prefix}/{database}{query}"


def _own_folder(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ["EWSDASH_VAR_DIR"] = str(path)


worker = os.environ.get("PYTEST_XDIST_WORKER")
if "EWSDASH_VAR_DIR" not in os.environ:
    run_var = BASE / "var" / "test" / f"run-{os.getpid()}"
    _own_folder(run_var)
    atexit.register(shutil.rmtree, run_var, ignore_errors=True)
if worker:
    # Inside the run's (or the chosen) folder; the controller removes the run's at exit.
    _own_folder(Path(os.environ["EWSDASH_VAR_DIR"]) / worker)
if worker and "CELERY_BROKER_URL" in os.environ:
    os.environ["CELERY_BROKER_URL"] = redis_url_for_worker(
        os.environ["CELERY_BROKER_URL"], worker_index(worker)
    )

if "EWSDASH_SANDBOX" not in os.environ and not os.environ.get("CI"):
    from monitoring.validation.sandbox import sandbox_problem

    if sandbox_problem() is not None:
        os.environ["EWSDASH_SANDBOX"] = "none"
