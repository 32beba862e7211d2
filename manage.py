#!/usr/bin/env python
"""Django's command-line utility for ewsdash."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ewsdash.settings")
    if sys.argv[1:3] == ["drift", "compare"]:
        # A process that only sorts: numpy's AVX2 sort where its AVX-512 one is slow (Zen 4).
        from ewsdash.cpu import prefer_avx2_sort

        prefer_avx2_sort()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
