"""Reference profiles: everything a reference contributes, computed once, serialisable.

Comparing ten candidates with one production release reads and sorts production once:
``profile_file`` (or ``profile_columns``) builds a ``ReferenceProfile``; ``to_bytes`` /
``save`` store it as an ``.npz`` (arrays) with a JSON member (the rest), loaded without
pickle.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .categorical import CategoricalProfile
from .config import DEFAULT_CONFIG, DriftConfig
from .io import Cube, FileData, build_cube
from .numeric import NumericProfile, finite_part, profile_numeric

FORMAT_VERSION = 1


@dataclass
class ColumnProfile:
    kind: str  # numeric | categorical | draws
    numeric: NumericProfile | None = None
    categorical: CategoricalProfile | None = None
    cube: Cube | None = None
    cube_reason: str | None = None
    null_rows: int = 0


@dataclass
class ReferenceProfile:
    columns: dict[str, ColumnProfile]
    config: DriftConfig = DEFAULT_CONFIG
    source: dict[str, Any] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        arrays: dict[str, NDArray[Any]] = {}
        meta: dict[str, Any] = {
            "version": FORMAT_VERSION,
            "source": self.source,
            "config": self.config.to_dict(),
            "columns": [],
        }
        for i, (name, col) in enumerate(self.columns.items()):
            entry: dict[str, Any] = {
                "name": name,
                "kind": col.kind,
                "cube_reason": col.cube_reason,
                "null_rows": col.null_rows,
            }
            if col.numeric is not None:
                p = col.numeric
                arrays[f"c{i}_sorted"] = p.sorted_values
                arrays[f"c{i}_edges"] = p.edges
                arrays[f"c{i}_counts"] = p.counts
                entry.update(dropped=p.dropped, std=p.std, bins=p.bins)
            if col.categorical is not None:
                entry.update(counts=col.categorical.counts, dropped=col.categorical.dropped)
            if col.cube is not None:
                arrays[f"c{i}_cube"] = col.cube.values
                arrays[f"c{i}_units"] = col.cube.units
                arrays[f"c{i}_months"] = col.cube.months
            meta["columns"].append(entry)
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez(buf, allow_pickle=False, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> ReferenceProfile:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes().decode())
            if meta.get("version") != FORMAT_VERSION:
                raise ValueError(f"unsupported profile version {meta.get('version')}")
            cfg = meta["config"]
            cfg["interval"] = tuple(cfg["interval"])
            cfg["exclude_columns"] = tuple(cfg["exclude_columns"])
            columns: dict[str, ColumnProfile] = {}
            for i, e in enumerate(meta["columns"]):
                col = ColumnProfile(
                    kind=e["kind"], cube_reason=e["cube_reason"], null_rows=e["null_rows"]
                )
                if f"c{i}_sorted" in z:
                    col.numeric = NumericProfile(
                        z[f"c{i}_sorted"],
                        e["dropped"],
                        e["std"],
                        z[f"c{i}_edges"],
                        z[f"c{i}_counts"],
                        e["bins"],
                    )
                if "counts" in e:
                    col.categorical = CategoricalProfile(e["counts"], e["dropped"])
                if f"c{i}_cube" in z:
                    col.cube = Cube(z[f"c{i}_cube"], z[f"c{i}_units"], z[f"c{i}_months"])
                columns[e["name"]] = col
        return cls(columns, DriftConfig(**cfg), meta["source"])

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_bytes())

    @classmethod
    def load(cls, path: str | Path) -> ReferenceProfile:
        return cls.from_bytes(Path(path).read_bytes())


def profile_file_data(
    data: FileData, config: DriftConfig = DEFAULT_CONFIG
) -> dict[str, ColumnProfile]:
    """Turn one file's accumulators into column profiles (sorting each numeric column once).

    The accumulators are released as they are consumed, to keep one column's copy at a time.
    """
    out: dict[str, ColumnProfile] = {}
    for name, kind in data.kinds.items():
        if kind == "numeric":
            values, dropped = data.numeric.pop(name)
            if values.flags.writeable:
                values.sort()  # in place: the accumulator is ours, no second copy
            else:  # a zero-copy view of an arrow buffer
                values = np.sort(values)
            out[name] = ColumnProfile(
                kind,
                numeric=profile_numeric(values, config, dropped=dropped, assume_sorted_finite=True),
            )
        elif kind == "categorical":
            counts, dropped = data.categorical.pop(name)
            out[name] = ColumnProfile(kind, categorical=CategoricalProfile(counts, dropped))
        else:
            flat = data.draws_flat.pop(name)
            lengths = data.draws_lengths.pop(name)
            cube, reason = build_cube(flat, lengths, data.units, data.months)
            if cube is not None:
                # the cube holds the same values: drop the row-ordered copy before copying again
                flat = cube.values.ravel()
            finite, dropped = finite_part(flat)
            del flat
            finite = np.sort(finite)
            out[name] = ColumnProfile(
                kind,
                numeric=profile_numeric(finite, config, dropped=dropped, assume_sorted_finite=True),
                cube=cube,
                cube_reason=reason,
                null_rows=data.draws_nulls.get(name, 0),
            )
    return out
