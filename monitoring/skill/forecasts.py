"""Read a forecast file (parquet, one row per unit and month) for scoring.

A `pred_<target>` column holds either a list of posterior draws per row or one value
(then a one-member ensemble: its CRPS is the absolute error). Only the rows of the asked
months are converted to numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray


class ForecastError(ValueError):
    """The file cannot be scored (a column missing, ragged draws)."""


@dataclass
class ForecastLayout:
    """What a file forecasts, read from its unit and month columns only."""

    columns: list[str]  # pred_* columns
    months: list[int]  # sorted
    first_month: int


@dataclass
class Forecast:
    units: NDArray[np.int64]
    months: NDArray[np.int64]
    draws: NDArray[np.float32]  # rows x members
    steps: NDArray[np.int64] | None = None  # from a `step` column (several origins), if any


def join_values(units: NDArray, months: NDArray, known: NDArray[np.float64]) -> NDArray[np.float64]:
    """The value of each (unit, month) pair from `known` rows (unit, month, value); NaN where
    none. A vectorised join on one sorted key per pair (units and months below 2**32)."""
    found = np.full(len(units), np.nan)
    if not len(known) or not len(units):
        return found
    known_keys = known[:, 1] * 2.0**32 + known[:, 0]
    order = np.argsort(known_keys, kind="stable")
    known_keys = known_keys[order]
    wanted = np.asarray(months, dtype=np.float64) * 2.0**32 + np.asarray(units, dtype=np.float64)
    place = np.clip(np.searchsorted(known_keys, wanted), 0, len(known_keys) - 1)
    hit = known_keys[place] == wanted
    found[hit] = known[order][place[hit], 2]
    return found


def guess_unit(names: list[str], time: str) -> str:
    """The unit column when the manifest names none: the first `*_id` that is not time."""
    for name in names:
        if name.endswith("_id") and name != time:
            return name
    raise ForecastError("no unit column (*_id) in the forecast file")


def forecast_layout(path: Path, *, time: str = "month_id") -> ForecastLayout:
    names = pq.read_schema(path).names
    if time not in names:
        raise ForecastError(f"the forecast file has no {time} column")
    months = pq.read_table(path, columns=[time]).column(time)
    unique = sorted(int(m) for m in pc.unique(months).to_pylist() if m is not None)
    if not unique:
        raise ForecastError("the forecast file has no rows")
    columns = [name for name in names if name.startswith("pred_")]
    return ForecastLayout(columns=columns, months=unique, first_month=unique[0])


def _draws(column: pa.ChunkedArray) -> NDArray[np.float32]:
    array = column.combine_chunks()
    if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        lengths = pc.list_value_length(array).to_numpy(zero_copy_only=False)
        if len(lengths) and (lengths.min() != lengths.max() or lengths.min() == 0):
            raise ForecastError("rows hold different numbers of draws")
        members = int(lengths[0]) if len(lengths) else 1
        flat = pc.list_flatten(array).to_numpy(zero_copy_only=False)
        return flat.astype(np.float32, copy=False).reshape(len(array), members)
    values = array.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    return values.reshape(-1, 1)


def forecast_read(
    path: Path, *, column: str, unit: str, months: list[int], time: str = "month_id"
) -> Forecast:
    """The rows of `months` of one `pred_*` column."""
    names = pq.read_schema(path).names
    wanted = [unit, time, column] + (["step"] if "step" in names else [])
    table = pq.read_table(path, columns=wanted, filters=[(time, "in", [int(m) for m in months])])
    return Forecast(
        units=table.column(unit).to_numpy().astype(np.int64),
        months=table.column(time).to_numpy().astype(np.int64),
        draws=_draws(table.column(column)),
        steps=table.column("step").to_numpy().astype(np.int64) if "step" in names else None,
    )
