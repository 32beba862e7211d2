"""``manage.py outcomes load NAME FILE [--note TEXT]``: record observed outcomes from a CSV
or parquet file with columns ``target, unit, month_id, value`` (one revision).

``manage.py outcomes score NAME``: score what is due in the realized-skill ledger now,
in this process (beat does it on a worker every EWSDASH_SKILL_INTERVAL seconds), then open
the incidents the live release's realized skill calls for.

``manage.py outcomes demo-publish [NAME]``: the demo's next month of synthetic outcomes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring import skill_alerts, skill_demo, skill_ledger
from releases.errors import ActionRefused
from releases.models import Repository

COLUMNS = ("target", "unit", "month_id", "value")


def read_outcome_file(path: Path) -> list[tuple[Any, ...]]:
    try:
        table = pq.read_table(path) if path.suffix == ".parquet" else pacsv.read_csv(path)
    except (OSError, ValueError) as error:
        raise CommandError(f"cannot read {path}: {error}") from error
    missing = [name for name in COLUMNS if name not in table.column_names]
    if missing:
        raise CommandError(f"{path} lacks column(s) {', '.join(missing)}")
    columns = [table.column(name).to_pylist() for name in COLUMNS]
    return list(zip(*columns, strict=True))


class Command(BaseCommand):
    help = "Record observed outcomes, or score the realized-skill ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="record outcomes from a CSV or parquet file")
        load.add_argument("name", help="the repository")
        load.add_argument("file", type=Path, help="columns target, unit, month_id, value")
        load.add_argument("--note", default="", help="where the data come from")
        score = sub.add_parser("score", help="score the ledger now, in this process")
        score.add_argument("name", help="the repository")
        demo = sub.add_parser("demo-publish", help="the demo's next month of outcomes")
        demo.add_argument("name", nargs="?", default=skill_demo.DEMO_REPOSITORY)

    def handle(self, *args: Any, **options: Any) -> None:
        repository = Repository.objects.filter(name=options["name"]).first()
        if repository is None:
            raise CommandError(f"no repository {options['name']!r}")
        if options["action"] == "load":
            rows = read_outcome_file(options["file"])
            try:
                revision = skill_ledger.outcomes_record(
                    repository=repository,
                    rows=rows,
                    source="command",
                    actor="manage.py outcomes",
                    note=options["note"],
                )
            except ActionRefused as error:
                raise CommandError(str(error)) from error
            self.stdout.write(
                f"revision {revision.pk}: {revision.rows} outcomes, {revision.changed} new or "
                "changed; the ledger is scored on a worker"
            )
        elif options["action"] == "demo-publish":
            try:
                revision = skill_demo.demo_outcomes_publish(
                    repository=repository, actor="manage.py outcomes demo-publish"
                )
            except ActionRefused as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"revision {revision.pk}: {revision.note}, {revision.rows} outcomes")
        else:
            self.stdout.write(str(skill_ledger.skill_ledger_update(repository=repository)))
            opened = skill_alerts.skill_alerts_check(repository=repository)
            self.stdout.write(f"{len(opened)} skill incidents opened")
