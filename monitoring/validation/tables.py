"""Reading prediction and feature tables (parquet or CSV) into Arrow and numpy, vectorised."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

__all__ = [
    "LazyTable",
    "Moments",
    "NumericColumn",
    "TableError",
    "count_beyond",
    "integer_column",
    "moments",
    "numeric_column",
    "positions_where",
    "read_table",
]


class TableError(ValueError):
    """A file that cannot be read as a table."""


def read_table(path: Path, columns: list[str] | None = None) -> pa.Table:
    """Read a parquet or CSV file (by suffix; parquet otherwise) into an Arrow table."""
    try:
        if _is_csv(path):
            delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
            table = pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter=delimiter))
            if columns is not None:
                table = table.select([c for c in columns if c in table.column_names])
            return table
        if columns is not None:
            present = set(pq.read_schema(path).names)
            columns = [c for c in columns if c in present]
        return pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise TableError(f"{path.name}: cannot read as a table: {exc}") from None


class LazyTable:
    """A table whose parquet columns are read one at a time, when asked for.

    A PRIO-GRID forecast with several draws columns is gigabytes once decoded; reading a
    column only while it is checked keeps one of them in memory at a time. CSV files are
    small and read whole.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._table: pa.Table | None = None
        try:
            if _is_csv(path):
                self._table = read_table(path)
                self.schema = self._table.schema
                self.num_rows = self._table.num_rows
            else:
                metadata = pq.read_metadata(path)
                self.schema = metadata.schema.to_arrow_schema()
                self.num_rows = metadata.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            raise TableError(f"{path.name}: cannot read as a table: {exc}") from None
        self.column_names: list[str] = list(self.schema.names)

    def column(self, name: str) -> pa.ChunkedArray:
        if self._table is not None:
            return self._table.column(name)
        return read_table(self.path, columns=[name]).column(0)


def _is_csv(path: Path) -> bool:
    return path.suffix.lower() in (".csv", ".tsv", ".txt")


def is_list_type(kind: pa.DataType) -> bool:
    return (
        pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
    )


def is_numeric_type(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind)


@dataclass(frozen=True)
class NumericColumn:
    """A numeric column as flat values, a point column or draws alike.

    ``values`` holds every value (draws flattened, nulls as NaN); row ``i`` owns
    ``values[offsets[i]:offsets[i + 1]]``. A point column has one value per row.
    ``null_rows`` marks rows whose whole value (the list itself) is null.
    """

    values: np.ndarray
    offsets: np.ndarray
    null_rows: np.ndarray
    is_list: bool

    @property
    def rows(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def per_row(self, test: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """How many values of each row ``test`` (vectorised, value -> bool) marks."""
        if not self.is_list:
            return positions_count(self.values, test)
        counts = np.zeros(self.rows, dtype=np.int64)
        # Whole rows at a time, about _SLICE values each, so the mask stays small.
        row_step = max(1, _SLICE // max(1, int(self.lengths.max(initial=1))))
        for first in range(0, self.rows, row_step):
            last = min(self.rows, first + row_step)
            begin, end = self.offsets[first], self.offsets[last]
            if end == begin:
                continue
            mask = test(self.values[begin:end]).astype(np.int32)
            starts = self.offsets[first:last] - begin
            nonempty = self.offsets[first + 1 : last + 1] > self.offsets[first:last]
            # reduceat needs in-range starts; empty rows keep their zero.
            counts[first:last][nonempty] = np.add.reduceat(mask, starts[nonempty])
        return counts

    def rows_of(self, value_index: np.ndarray) -> np.ndarray:
        """The row holding each given value position."""
        if not self.is_list:
            return value_index
        return np.searchsorted(self.offsets, value_index, side="right") - 1


def numeric_column(column: pa.ChunkedArray | pa.Array) -> NumericColumn:
    """Flatten a numeric or list-of-numeric column without a Python loop over rows."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    null_rows = _to_bool(pc.is_null(array))
    if is_list_type(array.type):
        lengths = pc.fill_null(pc.list_value_length(array), 0).to_numpy(zero_copy_only=False)
        offsets = np.zeros(len(array) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        flat = pc.list_flatten(array)
        if not is_numeric_type(flat.type):
            raise TableError(f"list values are {flat.type}, not numbers")
        values = _to_float(flat)
        return NumericColumn(values, offsets, null_rows, True)
    if not is_numeric_type(array.type):
        raise TableError(f"values are {array.type}, not numbers")
    offsets = np.arange(len(array) + 1, dtype=np.int64)
    return NumericColumn(_to_float(array), offsets, null_rows, False)


def _to_float(array: pa.Array) -> np.ndarray:
    # Floats keep their width (draws are float32 and may be large); ints become float64.
    if pa.types.is_integer(array.type):
        array = array.cast(pa.float64())
    if array.null_count:
        array = pc.fill_null(array, float("nan"))
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _to_bool(array: pa.Array) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=bool)


def integer_column(column: pa.ChunkedArray) -> np.ndarray:
    """An id column as int64; raises TableError on nulls or non-integer values."""
    array = column.combine_chunks()
    if array.null_count:
        raise TableError(f"{array.null_count:,} null values")
    if pa.types.is_integer(array.type):
        return np.asarray(array.to_numpy(), dtype=np.int64)
    if pa.types.is_floating(array.type):
        values = array.to_numpy(zero_copy_only=False)
        if not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
            raise TableError("values are not whole numbers")
        return values.astype(np.int64)
    raise TableError(f"values are {array.type}, not integers")


# Large draws columns (13,110 cells x 36 months x 512 draws is 240 million values) are
# scanned in slices so that temporaries stay a few tens of megabytes.
_SLICE = 1 << 22


def positions_count(values: np.ndarray, test: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``test`` of each value as 0 or 1 (int64), for point columns."""
    out = np.zeros(values.size, dtype=np.int64)
    for start in range(0, values.size, _SLICE):
        out[start : start + _SLICE] = test(values[start : start + _SLICE])
    return out


def positions_where(values: np.ndarray, test: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Positions (int64) of the values for which ``test`` (vectorised) is true."""
    found = [
        np.flatnonzero(test(values[start : start + _SLICE])) + start
        for start in range(0, values.size, _SLICE)
    ]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Moments:
    count: int  # finite values
    missing: int  # NaN or infinite values
    zeros: int
    mean: float
    sd: float  # population standard deviation
    min: float
    max: float


def moments(values: np.ndarray) -> Moments:
    """Counts, mean, standard deviation and range of the finite values, in two passes."""
    count = zeros = 0
    total = 0.0
    low, high = math.inf, -math.inf
    for start in range(0, values.size, _SLICE):
        part = values[start : start + _SLICE]
        finite = part[np.isfinite(part)]
        count += finite.size
        zeros += int(np.count_nonzero(finite == 0))
        if finite.size:
            total += float(np.sum(finite, dtype=np.float64))
            low, high = min(low, float(finite.min())), max(high, float(finite.max()))
    mean = total / count if count else math.nan
    squares = 0.0
    for start in range(0, values.size, _SLICE):
        part = values[start : start + _SLICE]
        finite = part[np.isfinite(part)].astype(np.float64)
        squares += float(np.sum((finite - mean) ** 2))
    sd = math.sqrt(squares / count) if count else math.nan
    return Moments(count, values.size - count, zeros, mean, sd, low, high)


def count_beyond(values: np.ndarray, center: float, distance: float) -> tuple[int, float]:
    """How many finite values lie farther than ``distance`` from ``center``, and the farthest."""
    beyond, farthest = 0, 0.0
    for start in range(0, values.size, _SLICE):
        part = values[start : start + _SLICE]
        gap = np.abs(part[np.isfinite(part)].astype(np.float64) - center)
        if gap.size:
            beyond += int(np.count_nonzero(gap > distance))
            farthest = max(farthest, float(gap.max()))
    return beyond, farthest
