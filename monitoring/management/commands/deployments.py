"""`deployments NAME`: record each release's models and their deployment_status from git."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.deployments import deployment_statuses_record
from releases.models import Repository


class Command(BaseCommand):
    help = "Read each release's models/<name>/configs/config_deployment.py (once per release)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="registered repository")

    def handle(self, *args: Any, **options: Any) -> None:
        repository = Repository.objects.filter(name=options["name"]).first()
        if repository is None:
            raise CommandError(f"No repository named {options['name']!r}.")
        count = deployment_statuses_record(repository=repository)
        self.stdout.write(f"{repository.name}: {count} release(s) read")
