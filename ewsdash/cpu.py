"""numpy's SIMD choice for processes that mostly sort (``manage.py drift compare``).

numpy 2.x sorts float64 with AVX-512 code where the CPU has it; on AMD Zen 4 (family 25) that
path is 4-6x slower than its AVX2 one (bench/drift.py). ``prefer_avx2_sort`` sets
``NPY_DISABLE_CPU_FEATURES`` for the current process on such CPUs only, before numpy is
imported, unless the variable is already set (even empty: an operator's choice wins). It is
called only for ``drift compare``: the rest of ewsdash keeps numpy's defaults. No numpy import
here, on purpose.
"""

from __future__ import annotations

import os
import sys

#: The AVX-512 dispatch targets numpy 2.x knows (X86_V4 is its AVX-512 baseline group).
AVX512_TARGETS = "X86_V4 AVX512_ICL AVX512_SPR"


def slow_avx512_sort(cpuinfo: str) -> bool:
    """True for an AMD family 25 (Zen 3/Zen 4) CPU with AVX-512 (i.e. Zen 4)."""
    vendor = family = None
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "vendor_id" and vendor is None:
            vendor = value.strip()
        elif key == "cpu family" and family is None:
            family = value.strip()
        elif key == "flags" and not flags:
            flags = set(value.split())
    return vendor == "AuthenticAMD" and family == "25" and "avx512f" in flags


def prefer_avx2_sort() -> bool:
    """Disable numpy's AVX-512 targets for this process on Zen 4; True if it did."""
    if "NPY_DISABLE_CPU_FEATURES" in os.environ or "numpy" in sys.modules:
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            info = fh.read()
    except OSError:
        return False
    if not slow_avx512_sort(info):
        return False
    os.environ["NPY_DISABLE_CPU_FEATURES"] = AVX512_TARGETS
    return True
