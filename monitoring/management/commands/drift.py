"""``manage.py drift compare REF CUR [--columns a,b] [--json]``: a thin shell over
``monitoring.drift.compare_files``.

``manage.py drift job NAME --reference-run ID --current-run ID [--model M] [--columns a,b]
[--user U] [--wait]``: start a drift job on the workers (monitoring.drift_jobs)."""

from __future__ import annotations

import json
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.drift import DriftInputError, compare_files
from monitoring.drift_jobs import drift_job_start, run_label
from monitoring.models import DriftJob, ValidationRun
from releases.errors import ActionRefused
from releases.models import Repository


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
        job = sub.add_parser("job", help="start a drift job between two validation runs")
        job.add_argument("name", help="the repository")
        job.add_argument("--reference-run", type=int, required=True, help="reference run id")
        job.add_argument("--current-run", type=int, required=True, help="current run id")
        job.add_argument(
            "--model",
            action="append",
            default=[],
            help="a model to compare (repeatable; default: all)",
        )
        job.add_argument("--columns", help="comma-separated columns (default: every pred_*)")
        job.add_argument(
            "--check",
            default="inference",
            help="the check whose predictions are compared (default: inference)",
        )
        job.add_argument(
            "--user",
            help="start it as this user (its role is checked); "
            "default: the operator, as 'manage.py drift'",
        )
        job.add_argument("--wait", action="store_true", help="wait until the job finishes")
        job.add_argument("--timeout", type=float, default=3600, help="seconds --wait waits")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "job":
            self._job(options)
            return
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
        head = (
            "column",
            "kind",
            "n_ref",
            "n_cur",
            "status",
            "KS p / chi2 p",
            "W1n",
            "PSI",
            "JS",
            "drifted",
        )
        rows = [head]
        for name, r in report["columns"].items():
            t = r["tests"]
            p = (t.get("ks") or t.get("chi_square") or {}).get("p_value")
            rows.append(
                (
                    name,
                    r["kind"],
                    str(r["n_reference"]),
                    str(r["n_current"]),
                    r["status"],
                    _fmt(p),
                    _fmt(t.get("wasserstein_normed", {}).get("value")),
                    _fmt(t.get("psi", {}).get("value")),
                    _fmt(t.get("jensen_shannon", {}).get("value")),
                    "yes" if r.get("drifted") else "no",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
        s = report["summary"]
        lines.append("")
        lines.append(
            f"{s['drifted']} of {s['columns']} columns drifted "
            f"({s['method']}, alpha={s['alpha']}, min effect {s['min_effect']})"
        )
        for name, r in report["columns"].items():
            lines.append(f"  {name}: {r.get('reason', '')}")
        return "\n".join(lines)

    def _job(self, options: dict[str, Any]) -> None:
        repository = Repository.objects.filter(name=options["name"]).first()
        if repository is None:
            raise CommandError(f"no repository {options['name']!r}")
        runs = {}
        for role in ("reference", "current"):
            run_id = options[f"{role}_run"]
            run = ValidationRun.objects.filter(repository=repository, pk=run_id).first()
            if run is None:
                raise CommandError(f"no validation run #{run_id} of {repository.name}")
            runs[role] = run
        actor: Any = "manage.py drift"
        if options.get("user"):
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"no user {options['user']!r}")
        columns = [c.strip() for c in (options.get("columns") or "").split(",") if c.strip()]
        try:
            job = drift_job_start(
                repository=repository,
                reference_run=runs["reference"],
                current_run=runs["current"],
                actor=actor,
                models=options["model"],
                columns=columns,
                reference_label=run_label(runs["reference"]),
                current_label=run_label(runs["current"]),
                check_name=options["check"],
            )
        except ActionRefused as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"drift job #{job.pk}: {job.reference_label} vs {job.current_label}, "
            f"{job.parts_total} part(s) queued"
        )
        if not options["wait"]:
            return
        deadline = time.monotonic() + options["timeout"]
        while not job.is_finished:
            if time.monotonic() > deadline:
                raise CommandError(
                    f"drift job #{job.pk} still {job.status} after "
                    f"{options['timeout']:.0f}s ({job.parts_done}/"
                    f"{job.parts_total} parts)"
                )
            time.sleep(1)
            job = DriftJob.objects.get(pk=job.pk)
        if job.status != "done":
            raise CommandError(f"drift job #{job.pk} {job.status}: {job.error}")
        for r in job.results.order_by("model", "column"):
            verdict = "DRIFTED" if r.drifted else "ok"
            self.stdout.write(f"{r.model or '-'}  {r.column}  {verdict}  {r.reason}")
        s = job.summary
        self.stdout.write(
            f"{s['drifted']} of {s['tested']} tested column(s) drifted "
            f"({s['method']} across the job, alpha={s['alpha']})"
        )
