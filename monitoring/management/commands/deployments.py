"""`deployments NAME [--json]`: read what is missing, then print each release's and head's
models and ensembles with their deployment_status and maturity."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.deployment_selectors import deployments_json
from monitoring.deployments import deployment_configs_record
from releases.models import Repository


class Command(BaseCommand):
    help = (
        "Read the model and ensemble configs (config_deployment.py, config_maturity.py) of "
        "every release and of production's and development's heads not read yet."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="registered repository")
        parser.add_argument(
            "--json",
            action="store_true",
            help='print {"production": [...], "development": [...], "releases": {...}}',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        repository = Repository.objects.filter(name=options["name"]).first()
        if repository is None:
            raise CommandError(f"No repository named {options['name']!r}.")
        count = deployment_configs_record(repository=repository)
        found = deployments_json(repository=repository)
        if options["json"]:
            self.stdout.write(json.dumps(found, indent=2))
            return
        self.stdout.write(f"{repository.name}: {count} commit(s) read")
        points = [("production", found["production"]), ("development", found["development"])]
        points += [(f"release {v}", items) for v, items in found["releases"].items()]
        for label, items in points:
            if items is None:
                self.stdout.write(f"{label}: not read")
                continue
            declared: dict[str, int] = {}
            for item in items:
                key = item["maturity"] or item["status"] or "unreadable"
                declared[key] = declared.get(key, 0) + 1
            summary = ", ".join(f"{k} {n}" for k, n in sorted(declared.items())) or "none"
            self.stdout.write(f"{label}: {len(items)} ({summary})")
            for item in items:
                if item["problem"]:
                    self.stdout.write(f"  {item['kind']} {item['name']}: {item['problem']}")
