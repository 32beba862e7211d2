"""Streaming readers: parquet in row-group batches (``ParquetFile.iter_batches``), CSV in
blocks (``pyarrow.csv.open_csv``).

Memory model. Only one batch of raw rows (``DriftConfig.batch_rows``) is alive at a time.
What accumulates is what the statistics need and no more:

- numeric column: its finite values, appended chunk by chunk, 8 bytes a value (4 if the
  column is float32), because an exact KS needs every value; the chunks are joined once at
  the end, so a column briefly takes twice that while it is joined and sorted;
- categorical column: one count per distinct category;
- list column (posterior draws): the flattened draws (4 bytes a draw for float32), the list
  lengths (8 bytes a row), and the unit and month ids (8 bytes a row each) to put them back
  into a (units, steps, draws) cube. A profiled draws column then keeps two copies of its
  draws: the cube (for the per-cell comparison) and the sorted finite draws (for the pooled
  column tests), i.e. 8 bytes a float32 draw; e.g. 13,110 x 36 x 256 draws: about 1 GB a
  side at rest, 1.5 GB while profiling.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from numpy.typing import NDArray

from .config import TIME_COLUMN, UNIT_COLUMNS


class DriftInputError(ValueError):
    """A file or column that cannot be compared; the message names it."""


def column_kind(dtype: pa.DataType) -> str:
    if pa.types.is_boolean(dtype):
        return "categorical"
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return "numeric"
    if (
        pa.types.is_list(dtype)
        or pa.types.is_large_list(dtype)
        or pa.types.is_fixed_size_list(dtype)
    ):
        inner = dtype.value_type
        if pa.types.is_integer(inner) or pa.types.is_floating(inner):
            return "draws"
    return "categorical"


def _is_parquet(path: Path) -> bool:
    if path.suffix.lower() in (".parquet", ".pq"):
        return True
    if path.suffix.lower() in (".csv", ".gz", ".txt"):
        return False
    with path.open("rb") as fh:
        return fh.read(4) == b"PAR1"


def _check(path: str | Path, role: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise DriftInputError(f"{role} file not found: {p}")
    if not p.is_file():
        raise DriftInputError(f"{role} path is not a file: {p}")
    return p


def read_schema(path: str | Path, role: str = "input") -> pa.Schema:
    p = _check(path, role)
    try:
        if _is_parquet(p):
            return pq.read_schema(p)
        with pacsv.open_csv(p) as reader:
            return reader.schema
    except (pa.ArrowException, OSError) as exc:
        raise DriftInputError(f"cannot read {role} file {p}: {exc}") from exc


def iter_batches(
    path: str | Path, columns: Sequence[str], batch_rows: int, role: str = "input"
) -> Iterator[pa.RecordBatch]:
    p = _check(path, role)
    try:
        if _is_parquet(p):
            yield from pq.ParquetFile(p).iter_batches(batch_size=batch_rows, columns=list(columns))
        else:
            opts = pacsv.ConvertOptions(include_columns=list(columns))
            # block_size is in bytes; ~64 bytes a row keeps a block near batch_rows rows
            read = pacsv.ReadOptions(block_size=max(1 << 20, batch_rows * 64))
            with pacsv.open_csv(p, read_options=read, convert_options=opts) as reader:
                yield from reader
    except (pa.ArrowException, OSError) as exc:
        raise DriftInputError(f"cannot read {role} file {p}: {exc}") from exc


@dataclass
class _Chunks:
    parts: list[NDArray[Any]] = field(default_factory=list)

    def add(self, a: NDArray[Any]) -> None:
        if a.size:
            self.parts.append(a)

    def join(self, dtype: Any = np.float64) -> NDArray[Any]:
        if not self.parts:
            return np.empty(0, dtype=dtype)
        out = np.concatenate(self.parts) if len(self.parts) > 1 else self.parts[0]
        self.parts = []
        return out


@dataclass
class FileData:
    """What one file contributes, per column, after one streaming pass."""

    path: str
    rows: int = 0
    kinds: dict[str, str] = field(default_factory=dict)
    numeric: dict[str, tuple[NDArray[Any], int]] = field(default_factory=dict)
    categorical: dict[str, tuple[dict[str, int], int]] = field(default_factory=dict)
    draws_flat: dict[str, NDArray[Any]] = field(default_factory=dict)
    draws_lengths: dict[str, NDArray[np.int64]] = field(default_factory=dict)
    draws_nulls: dict[str, int] = field(default_factory=dict)
    unit_column: str | None = None
    units: NDArray[Any] | None = None
    months: NDArray[Any] | None = None


def _numeric_values(arr: pa.Array) -> NDArray[Any]:
    if pa.types.is_decimal(arr.type):
        arr = arr.cast(pa.float64())
    values = arr.to_numpy(zero_copy_only=False)  # nulls become NaN
    if values.dtype != np.float32:
        values = values.astype(np.float64, copy=False)
    return values


def read_file(
    path: str | Path, columns: Sequence[str], batch_rows: int, role: str = "input"
) -> FileData:
    """Stream ``columns`` of a parquet or CSV file into per-column accumulators."""
    schema = read_schema(path, role)
    missing = [c for c in columns if c not in schema.names]
    if missing:
        raise DriftInputError(f"column(s) {', '.join(missing)} not in {role} file {path}")
    data = FileData(path=str(path))
    kinds = {c: column_kind(schema.field(c).type) for c in columns}
    data.kinds = kinds
    wanted = list(columns)
    unit_col = next((u for u in UNIT_COLUMNS if u in schema.names), None)
    keyed = any(k == "draws" for k in kinds.values()) and unit_col and TIME_COLUMN in schema.names
    if keyed:
        assert unit_col is not None
        data.unit_column = unit_col
        wanted += [c for c in (unit_col, TIME_COLUMN) if c not in wanted]
    chunks = {c: _Chunks() for c in columns if kinds[c] in ("numeric", "draws")}
    lengths = {c: _Chunks() for c in columns if kinds[c] == "draws"}
    dropped = dict.fromkeys(columns, 0)
    counts: dict[str, dict[str, int]] = {c: {} for c in columns if kinds[c] == "categorical"}
    unit_parts, month_parts = _Chunks(), _Chunks()
    for batch in iter_batches(path, wanted, batch_rows, role):
        data.rows += batch.num_rows
        for c in columns:
            arr = batch.column(c)
            kind = kinds[c]
            if kind == "numeric":
                values = _numeric_values(arr)
                keep = np.isfinite(values)
                dropped[c] += int(values.size - keep.sum())
                chunks[c].add(values[keep] if not keep.all() else values)
            elif kind == "draws":
                dropped[c] += arr.null_count
                lens = pc.fill_null(pc.list_value_length(arr), 0)
                lengths[c].add(lens.to_numpy(zero_copy_only=False).astype(np.int64))
                chunks[c].add(_numeric_values(arr.flatten()))
            else:
                dropped[c] += arr.null_count
                arr = pc.drop_null(arr)
                if pa.types.is_dictionary(arr.type):
                    arr = arr.dictionary_decode()
                if pa.types.is_floating(arr.type):
                    nan = pc.is_nan(arr)
                    dropped[c] += int(pc.sum(nan).as_py() or 0)
                    arr = arr.filter(pc.invert(nan))
                acc = counts[c]
                for item in pc.value_counts(arr).to_pylist():
                    key = str(item["values"])
                    acc[key] = acc.get(key, 0) + int(item["counts"])
        if keyed:
            unit_parts.add(batch.column(unit_col).to_numpy(zero_copy_only=False))
            month_parts.add(batch.column(TIME_COLUMN).to_numpy(zero_copy_only=False))
    for c in columns:
        if kinds[c] == "numeric":
            data.numeric[c] = (chunks[c].join(), dropped[c])
        elif kinds[c] == "draws":
            data.draws_flat[c] = chunks[c].join()
            data.draws_lengths[c] = lengths[c].join(np.int64)
            data.draws_nulls[c] = dropped[c]
        else:
            data.categorical[c] = (counts[c], dropped[c])
    if keyed:
        data.units = unit_parts.join(np.int64)
        data.months = month_parts.join(np.int64)
    return data


def is_parquet(path: str | Path, role: str = "input") -> bool:
    return _is_parquet(_check(path, role))


def parquet_rows(path: str | Path, role: str = "input") -> int:
    p = _check(path, role)
    try:
        return int(pq.ParquetFile(p).metadata.num_rows)
    except (pa.ArrowException, OSError) as exc:
        raise DriftInputError(f"cannot read {role} file {p}: {exc}") from exc


def read_parquet_numeric(
    path: str | Path, column: str, role: str = "input"
) -> tuple[NDArray[Any], int]:
    """One numeric parquet column whole: (its finite values, in a fresh writable array, and how
    many null/NaN/±inf were dropped). Column by column rather than batch by batch: a numeric
    column keeps every value anyway, and one read decodes it without per-batch overhead."""
    p = _check(path, role)
    try:
        chunked = pq.ParquetFile(p).read(columns=[column], use_threads=False).column(0)
    except (pa.ArrowException, OSError) as exc:
        raise DriftInputError(f"cannot read {role} file {p}: {exc}") from exc
    parts = [_numeric_values(chunk) for chunk in chunked.chunks]
    values = np.concatenate(parts) if len(parts) != 1 else parts[0].copy()
    if values.dtype != np.float32:
        values = values.astype(np.float64, copy=False)
    keep = np.isfinite(values)
    if keep.all():
        return values, 0
    return values[keep], int(values.size - keep.sum())


@dataclass
class Cube:
    """Draws of one list column arranged as (units, steps, draws)."""

    values: NDArray[Any]
    units: NDArray[Any]
    months: NDArray[Any]


def build_cube(
    flat: NDArray[Any],
    lengths: NDArray[np.int64],
    units: NDArray[Any] | None,
    months: NDArray[Any] | None,
) -> tuple[Cube | None, str | None]:
    """Arrange rows keyed by (unit, month) into a cube, or say why that is impossible."""
    if units is None or months is None:
        return None, "no unit id column (country_id or priogrid_id) and month_id"
    if lengths.size == 0:
        return None, "no rows"
    if not (lengths == lengths[0]).all() or lengths[0] == 0:
        return None, "rows hold different numbers of draws (or null lists)"
    uu, ui = np.unique(units, return_inverse=True)
    mm, mi = np.unique(months, return_inverse=True)
    if uu.size * mm.size != units.size:
        return None, "rows do not form a complete unit x month grid"
    cell = ui * mm.size + mi
    if np.unique(cell).size != cell.size:
        return None, "duplicate (unit, month) rows"
    values = np.empty((uu.size * mm.size, int(lengths[0])), dtype=flat.dtype)
    values[cell] = flat.reshape(units.size, int(lengths[0]))
    return Cube(values.reshape(uu.size, mm.size, -1), uu, mm), None
