"""``manage.py drift compare REF CUR [--columns a,b] [--json]``: a thin shell over
``monitoring.drift.compare_files``."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.drift import DriftInputError, compare_files


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


class Command(BaseCommand):
    help = "Drift statistics between a reference and a current parquet/CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        compare = sub.add_parser("compare", help="compare two files column by column")
        compare.add_argument("reference", help="reference (production) parquet or CSV file")
        compare.add_argument("current", help="current (candidate) parquet or CSV file")
        compare.add_argument("--columns", help="comma-separated columns (default: all shared)")
        compare.add_argument("--json", action="store_true", help="print the full JSON report")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] != "compare":
            raise CommandError(f"unknown action {options['action']!r}")
        columns = None
        if options.get("columns"):
            columns = [c.strip() for c in options["columns"].split(",") if c.strip()]
        try:
            report = compare_files(options["reference"], options["current"], columns=columns)
        except DriftInputError as exc:
            raise CommandError(str(exc)) from exc
        if options.get("json"):
            self.stdout.write(json.dumps(report, indent=2, allow_nan=False))
            return
        self.stdout.write(self._table(report))

    def _table(self, report: dict[str, Any]) -> str:
        head = ("column", "kind", "n_ref", "n_cur", "status", "KS p / chi2 p", "W1n", "PSI",
                "JS", "drifted")
        rows = [head]
        for name, r in report["columns"].items():
            t = r["tests"]
            p = (t.get("ks") or t.get("chi_square") or {}).get("p_value")
            rows.append((name, r["kind"], str(r["n_reference"]), str(r["n_current"]),
                         r["status"], _fmt(p),
                         _fmt(t.get("wasserstein_normed", {}).get("value")),
                         _fmt(t.get("psi", {}).get("value")),
                         _fmt(t.get("jensen_shannon", {}).get("value")),
                         "yes" if r.get("drifted") else "no"))
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
        s = report["summary"]
        lines.append("")
        lines.append(f"{s['drifted']} of {s['columns']} columns drifted "
                     f"({s['method']}, alpha={s['alpha']}, min effect {s['min_effect']})")
        for name, r in report["columns"].items():
            lines.append(f"  {name}: {r.get('reason', '')}")
        return "\n".join(lines)
