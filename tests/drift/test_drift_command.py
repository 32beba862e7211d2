"""``manage.py drift compare``; needs Django settings (skipped when pytest runs without them)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

django_settings = pytest.importorskip("django.conf").settings
if not django_settings.configured:
    pytest.skip("Django settings are not configured", allow_module_level=True)

from django.core.management import call_command  # noqa: E402
from django.core.management.base import CommandError  # noqa: E402


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    for name, shift in (("ref", 0.0), ("cur", 1.0)):
        pq.write_table(
            pa.table({"x": rng.normal(shift, 1, 500), "y": rng.normal(0, 1, 500)}),
            tmp_path / f"{name}.parquet",
        )
    return tmp_path / "ref.parquet", tmp_path / "cur.parquet"


def test_json_output(files: tuple[Path, Path]) -> None:
    out = StringIO()
    call_command("drift", "compare", str(files[0]), str(files[1]), "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["columns"]["x"]["drifted"] is True
    assert report["summary"]["columns"] == 2


def test_table_output_and_columns(files: tuple[Path, Path]) -> None:
    out = StringIO()
    call_command("drift", "compare", str(files[0]), str(files[1]), "--columns", "x", stdout=out)
    text = out.getvalue()
    assert "x" in text and "1 of 1 columns drifted" in text


def test_errors_are_command_errors(files: tuple[Path, Path], tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="missing.parquet"):
        call_command("drift", "compare", str(tmp_path / "missing.parquet"), str(files[1]))
    with pytest.raises(CommandError, match="'zzz'"):
        call_command("drift", "compare", str(files[0]), str(files[1]), "--columns", "zzz")
