from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from releases.audit import audit_verify


class Command(BaseCommand):
    help = "Audit log tools: `audit verify` checks the hash chain."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="Check every event's hash and link; name the first bad one.")

    def handle(self, *args: Any, **options: Any) -> None:
        verdict = audit_verify()
        if not verdict.ok:
            raise CommandError(f"audit chain broken at {verdict.message}")
        self.stdout.write(verdict.message)
