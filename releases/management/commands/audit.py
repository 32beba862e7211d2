from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from releases.audit import audit_verify
from releases.db_roles import audit_table_risk


class Command(BaseCommand):
    help = "Audit log tools: `audit verify` checks the hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Check every event's hash and link; name the first bad one.")

    def handle(self, *args: Any, **options: Any) -> None:
        risk = audit_table_risk(connection)
        if risk:
            self.stderr.write(
                f"warning: {risk}: it can switch the append-only trigger off; run the "
                "application as a role that does not own the table (README, PostgreSQL)."
            )
        verdict = audit_verify()
        if not verdict.ok:
            raise CommandError(f"audit chain broken at {verdict.message}")
        self.stdout.write(verdict.message)
