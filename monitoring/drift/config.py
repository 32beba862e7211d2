"""Settings shared by every drift comparison, and the conventions record they produce."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any

#: ks_2samp's 'auto' rule: exact distribution when both samples have at most this many values.
KS_MAX_EXACT_N = 10_000

#: Columns that identify a row of a VIEWS prediction frame rather than carry a prediction.
UNIT_COLUMNS = ("country_id", "priogrid_id")
TIME_COLUMN = "month_id"

#: Ceiling on the thread count chosen automatically (``threads=None``): each compare_draws worker
#: holds a chunk of about 170 MB (see draws.py), so a many-core host must not multiply that.
MAX_AUTO_THREADS = 8


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, which containers narrow; cpu_count
    reports the whole host)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not available on macOS / Windows
        return os.cpu_count() or 1


@dataclass(frozen=True)
class DriftConfig:
    """Every knob of the engine. Defaults follow DESIGN.md section 6."""

    alpha: float = 0.05
    """False discovery rate for Benjamini-Hochberg across columns (and across draw cells)."""
    min_wasserstein_normed: float = 0.1
    min_psi: float = 0.1
    min_jensen_shannon: float = 0.1
    """Minimum effect sizes: a significant column is drifted only if one of its effects reaches
    its minimum (numeric: W1-normed or PSI; categorical: Jensen-Shannon)."""
    psi_bins: int = 10
    psi_floor: float = 1e-4
    """Proportion given to an empty bin so that PSI stays finite."""
    js_base: float = math.e
    std_floor: float = 1e-3
    """Floor on the reference's population standard deviation when normalising W1."""
    ks_method: str = "auto"
    interval: tuple[float, float] = (0.05, 0.95)
    top_units: int = 10
    batch_rows: int = 65_536
    cell_chunk: int = 8_192
    threads: int | None = None
    """Worker threads over columns (compare_columns) and cell chunks (compare_draws). None: one
    per usable CPU, at most MAX_AUTO_THREADS; numpy's sorts and ufuncs release the GIL."""
    exclude_columns: tuple[str, ...] = field(default=(*UNIT_COLUMNS, TIME_COLUMN))

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError("alpha must be in (0, 1)")
        if self.psi_bins < 1:
            raise ValueError("psi_bins must be >= 1")
        if not self.psi_floor > 0 or not self.std_floor > 0:
            raise ValueError("floors must be positive")
        if self.js_base <= 0 or self.js_base == 1:
            raise ValueError("js_base must be positive and not 1")
        if self.ks_method not in ("auto", "exact", "asymp"):
            raise ValueError("ks_method must be auto, exact or asymp")
        if self.threads is not None and self.threads < 1:
            raise ValueError("threads must be None or >= 1")

    def with_(self, **changes: Any) -> DriftConfig:
        return replace(self, **changes)

    def workers(self, tasks: int) -> int:
        """Threads to use for ``tasks`` independent pieces of work (1 means no pool)."""
        wanted = self.threads if self.threads is not None else min(usable_cpus(), MAX_AUTO_THREADS)
        return max(1, min(wanted, tasks))

    def min_effect(self) -> dict[str, float]:
        return {
            "wasserstein_normed": self.min_wasserstein_normed,
            "psi": self.min_psi,
            "jensen_shannon": self.min_jensen_shannon,
        }

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["interval"] = list(self.interval)
        d["exclude_columns"] = list(self.exclude_columns)
        return d


DEFAULT_CONFIG = DriftConfig()


def js_base_label(base: float) -> str | float:
    return "e" if base == math.e else base
