"""Loaded with `-p tests.testenv` before Django starts: each run gets its own var/ folder.

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
