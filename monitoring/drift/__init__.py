"""ewsdash drift engine: plain numpy/scipy, no Django.

Compares a reference sample (the production release's outputs) with a current one (a
candidate's), per column and, for posterior draws, per (unit, step) cell. DESIGN.md section 6.

Files
-----
``compare_files(reference_path, current_path, columns=None, config=None) -> dict``
    Parquet (streamed by row group) or CSV (streamed by block). Returns::

        {"columns": {NAME: {"kind": "numeric" | "categorical" | "draws",
                            "n_reference", "n_current",
                            "dropped": {"reference": n, "current": n},
                            "status", "tests": {...}, "q_value", "drifted", "reason",
                            "conventions": {...}}},
         "summary": {"columns", "tested", "drifted", "method": "benjamini-hochberg",
                     "alpha", "min_effect", "statuses", "reference", "current"}}

    ``tests`` holds only the tests of the kind: numeric and draws get ``ks``
    {statistic, p_value}, ``wasserstein_normed`` {value, raw}, ``psi`` {value},
    ``jensen_shannon`` {value}; categorical gets ``chi_square`` {statistic, p_value, dof} and
    ``jensen_shannon``, plus ``unseen_categories``. A draws column (``List<float>``, e.g.
    VIEWS ``pred_<target>``) is tested on all its draws pooled, and when the file has a unit
    id (``country_id``/``priogrid_id``) and ``month_id`` also per cell under ``cells``
    (``DrawsComparison.to_dict``). Missing file, unreadable file or unknown column raise
    ``DriftInputError`` (a ValueError) naming it.
``profile_file(path, columns=None, config=None) -> ReferenceProfile``
``compare_profile(profile, current_path, columns=None, config=None) -> dict``
    The same report, with the reference read and sorted once for many candidates.
    ``ReferenceProfile.to_bytes() / from_bytes(blob) / save(path) / load(path)`` (npz + JSON,
    no pickle).

Arrays (for the Celery drift jobs)
----------------------------------
``compare_column_profiles(reference_column, current_column, config) -> (result, cmp)``
    One column of two profiles, without the verdict; ``cmp`` is the DrawsComparison of a
    draws column (None otherwise), for per-cell matrices.
``compare_columns(reference: {name: array | NumericProfile}, current: {name: array},
config=None) -> dict``
    The compare_files report for in-memory numeric columns (threads over columns).
``profile_numeric(values, config=DEFAULT_CONFIG, *, dropped=0) -> NumericProfile``
``compare_numeric(reference: array | NumericProfile, current, config=DEFAULT_CONFIG) -> dict``
``profile_categorical(values | {category: count}) -> CategoricalProfile``
``compare_categorical(reference: values | CategoricalProfile, current, config=...) -> dict``
    One column's result without the verdict.
``apply_verdicts(results: {name: result}, config) -> summary``
    Adds ``q_value``, ``drifted`` and ``reason`` to each result in place.
``compare_draws(production, candidate, config=DEFAULT_CONFIG, *, unit_ids=None,
first_month=None) -> DrawsComparison``
    (units, steps, draws) arrays, draw counts may differ. Per-cell arrays ``w1``,
    ``w1_normed``, ``ks_statistic``, ``ks_p_value``, ``q_value``, ``drifted``,
    ``mean_change``, ``width_change``; ``rollups()`` by step (with month = first_month +
    step - 1 for the 1-based step) and top units; ``to_dict()``.
``bh_adjust(p_values) -> q_values``; ``ks_pvalues(n1, n2, d, method) -> (stat, p, method)``.
``DriftConfig`` (frozen dataclass; ``DEFAULT_CONFIG``) holds every threshold and convention.

Conventions (recorded in every result)
--------------------------------------
- NaN and ±inf are dropped and counted (null counts as dropped too); an empty or constant
  side gives a status (``empty_reference``, ``empty_current``, ``empty_both``,
  ``constant_reference``, ``constant_current``, ``constant_both``), never an exception.
  Tests scipy defines for constant samples are still computed.
- KS equals ``scipy.stats.ks_2samp`` two-sided, method ``auto``: exact when
  max(n1, n2) <= 10,000, else ``kstwo.sf(d, round(n1*n2/(n1+n2)))``.
- W1 is divided by the reference's population std, floored at 0.001.
- PSI: quantile bins (default 10) of the non-zero reference values, closed on the right,
  plus a bin for exact zeros; an empty bin's proportion is the floor 1e-4.
- Jensen-Shannon is ``scipy.spatial.distance.jensenshannon`` (base e unless configured) over
  the PSI bins (numeric) or categories (categorical).
- Categorical: Pearson chi-square on the 2 x k table (``chi2_contingency``, no Yates).
- Verdict: Benjamini-Hochberg q <= alpha (0.05) over all columns, from KS (numeric, draws)
  or chi-square (categorical), AND an effect at least its minimum: W1-normed >= 0.1 or
  PSI >= 0.1 (numeric), JS >= 0.1 (categorical). Draw cells: BH over all cells and
  W1-normed >= 0.1. ``reason`` says which rule decided.
"""

from .categorical import CategoricalProfile, compare_categorical, profile_categorical
from .config import DEFAULT_CONFIG, DriftConfig
from .draws import DrawsComparison, compare_draws
from .io import DriftInputError
from .ks import ks_pvalues
from .multiple import apply_verdicts, bh_adjust
from .numeric import NumericProfile, compare_numeric, profile_numeric
from .profile import ColumnProfile, ReferenceProfile
from .report import (
    compare_column_profiles,
    compare_columns,
    compare_files,
    compare_profile,
    profile_file,
)

__all__ = [
    "DEFAULT_CONFIG",
    "CategoricalProfile",
    "ColumnProfile",
    "DrawsComparison",
    "DriftConfig",
    "DriftInputError",
    "NumericProfile",
    "ReferenceProfile",
    "apply_verdicts",
    "bh_adjust",
    "compare_categorical",
    "compare_column_profiles",
    "compare_columns",
    "compare_draws",
    "compare_files",
    "compare_numeric",
    "compare_profile",
    "ks_pvalues",
    "profile_categorical",
    "profile_file",
    "profile_numeric",
]
