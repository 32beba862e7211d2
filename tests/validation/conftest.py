"""Fixtures for the Django-free validation tests: forecast files written on the spot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

FIRST_MONTH = 530


def forecast_table(
    *,
    units: int = 5,
    steps: int = 36,
    draws: int | None = 64,
    first_month: int = FIRST_MONTH,
    unit: str = "country_id",
    targets: tuple[str, ...] = ("pred_lr_ged_sb",),
    seed: int = 0,
) -> pa.Table:
    """A complete country-month forecast: draws as list<float32>, or points if draws is None."""
    rng = np.random.default_rng(seed)
    months = np.repeat(np.arange(first_month, first_month + steps), units)
    unit_ids = np.tile(np.arange(1, units + 1) * 3, steps)
    columns: dict[str, pa.Array] = {
        "month_id": pa.array(months, pa.int64()),
        unit: pa.array(unit_ids, pa.int64()),
    }
    rows = units * steps
    for target in targets:
        if draws is None:
            columns[target] = pa.array(rng.gamma(1.0, 2.0, rows), pa.float64())
        else:
            flat = rng.gamma(1.0, 2.0, rows * draws).astype(np.float32)
            offsets = pa.array(np.arange(rows + 1, dtype=np.int32) * draws)
            columns[target] = pa.ListArray.from_arrays(offsets, pa.array(flat, pa.float32()))
    return pa.table(columns)


@pytest.fixture
def write_parquet(tmp_path: Path) -> Callable[..., Path]:
    def write(table: pa.Table, name: str = "preds.parquet") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
        return path

    return write


@pytest.fixture
def forecast() -> Callable[..., pa.Table]:
    return forecast_table
