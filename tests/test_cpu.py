"""ewsdash/cpu.py: the AVX2-sort choice is made on AMD Zen 4 only and never overrides."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ewsdash.cpu import slow_avx512_sort

ZEN4 = "vendor_id\t: AuthenticAMD\ncpu family\t: 25\nflags\t\t: fpu sse2 avx2 avx512f avx512bw\n"


def test_zen4_detected_and_others_not() -> None:
    assert slow_avx512_sort(ZEN4)
    assert not slow_avx512_sort(ZEN4.replace("avx512f ", ""))  # Zen 3
    assert not slow_avx512_sort(ZEN4.replace(": 25", ": 26"))  # Zen 5
    assert not slow_avx512_sort(ZEN4.replace("AuthenticAMD", "GenuineIntel"))


def test_operator_setting_wins() -> None:
    code = (
        "import os; from ewsdash.cpu import prefer_avx2_sort; "
        "print(prefer_avx2_sort(), repr(os.environ['NPY_DISABLE_CPU_FEATURES']))"
    )
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": ""}
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False ''"
