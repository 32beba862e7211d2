from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.signatures import repository_secret
from releases.models import Repository


class Command(BaseCommand):
    help = (
        "Webhooks in: `webhook secret NAME` prints the repository's webhook secret "
        "(derived from EWSDASH_WEBHOOK_KEY) to paste into the forge's webhook settings."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        secret = sub.add_parser("secret", help="Print a repository's webhook secret.")
        secret.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        if not Repository.objects.filter(name=name).exists():
            raise CommandError(f"There is no repository {name!r}.")
        self.stdout.write(repository_secret(settings.EWSDASH_WEBHOOK_KEY.encode(), name))
