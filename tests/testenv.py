"""Loaded with `-p tests.testenv` before Django starts: each run gets its own var/ folder.

Checks run in the bubblewrap sandbox. Where it cannot run (bwrap missing, no user
namespaces) a local run uses EWSDASH_SANDBOX=none, so `make test` works on a fresh machine
(the sandbox's own tests skip, saying why); in CI a missing sandbox fails those tests.

The embedded broker, the SQLite test database and the clones live under
var/test/run-<pid>, so a running `make demo`, a second suite and this one never
share a queue or a file.
"""

import atexit
import os
import shutil
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
if "EWSDASH_VAR_DIR" not in os.environ:
    RUN_VAR = BASE / "var" / "test" / f"run-{os.getpid()}"
    shutil.rmtree(RUN_VAR, ignore_errors=True)
    RUN_VAR.mkdir(parents=True)
    os.environ["EWSDASH_VAR_DIR"] = str(RUN_VAR)
    atexit.register(shutil.rmtree, RUN_VAR, ignore_errors=True)

if "EWSDASH_SANDBOX" not in os.environ and not os.environ.get("CI"):
    from monitoring.validation.sandbox import sandbox_problem

    if sandbox_problem() is not None:
        os.environ["EWSDASH_SANDBOX"] = "none"
