from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring import check_secrets
from monitoring.models import RepositorySecret


class Command(BaseCommand):
    help = (
        "Secrets for checks: `secrets list` (names, never values); `secrets rotate` re-encrypts "
        "every secret under the first key of EWSDASH_SECRETS_KEY (or its file), after a new "
        "key was put first; the old key may then be removed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="Every repository's secrets, by name.")
        sub.add_parser("rotate", help="Re-encrypt every secret under the first key.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            for row in RepositorySecret.objects.select_related("repository", "updated_by"):
                who = row.updated_by.get_username() if row.updated_by else "-"
                self.stdout.write(
                    f"{row.repository.name}\t{row.name}\t{who}\t{row.updated_at:%Y-%m-%d %H:%M}"
                )
            return
        try:
            count = check_secrets.secret_rotate()
        except check_secrets.SecretsUnavailable as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{count} secrets re-encrypted under the first key.")
