"""`release verify NAME VERSION [--json] [--offline GITDIR --key FILE]` and `release key`.

`verify` exits 0 only when every check of the release's attestation holds and names each
one that does not (releases.attestation_verify). With --offline it reads only a clone of
the origin and a file of public keys: no database.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from releases import attestation_verify
from releases.errors import ActionRefused


class Command(BaseCommand):
    help = "Verify a release's signed attestation; print ewsdash's attestation key."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="Check a release's attestation.")
        verify.add_argument("name")
        verify.add_argument("version", help="1.4.0 or the tag, v1.4.0")
        verify.add_argument("--json", action="store_true")
        verify.add_argument("--fetch", action="store_true", help="Fetch the origin first")
        verify.add_argument("--offline", metavar="GITDIR", type=Path, help="A clone of the origin")
        verify.add_argument("--key", metavar="FILE", type=Path, help="Public keys, one a line")
        verify.add_argument(
            "--artifacts", metavar="DIR", type=Path, help="Offline: a copy of the artifact store"
        )
        key = sub.add_parser("key", help="Print the public key that signs attestations.")
        key.add_argument("--all", action="store_true", help="Every key ever used (rotation)")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action']}")(**options)

    def handle_key(self, **options: Any) -> None:
        from releases.attestations import current_signing_key, public_keys

        try:
            current = current_signing_key()
        except ActionRefused as error:
            raise CommandError(str(error)) from None
        keys = public_keys() if options["all"] else {current.keyid: current.public_key}
        for keyid, public in keys.items():
            self.stdout.write(f"{public} {keyid}")

    def handle_verify(self, **options: Any) -> None:
        version = options["version"].removeprefix("v")
        if options["offline"] is not None:
            if options["key"] is None:
                raise CommandError("--offline needs --key FILE (the public keys to trust).")
            try:
                keys_text = options["key"].read_text()
            except OSError as error:
                raise CommandError(f"Cannot read {options['key']}: {error}") from None
            result = attestation_verify.attestation_verify_offline(
                git_dir=options["offline"],
                keys_text=keys_text,
                repository=options["name"],
                version=version,
                artifacts=options["artifacts"],
            )
        else:
            result = attestation_verify.attestation_verify(
                release=self._release(options["name"], version), fetch=options["fetch"]
            )
        self._report(result, as_json=options["json"])
        if not result.ok:
            sys.exit(1)

    def _release(self, name: str, version: str) -> Any:
        from releases.models import Release

        release = (
            Release.objects.filter(repository__name=name, version=version)
            .select_related("repository")
            .first()
        )
        if release is None:
            raise CommandError(f"No release {version} of {name!r}.")
        return release

    def _report(self, result: attestation_verify.Verification, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(result.as_dict(), indent=2))
            return
        marks = {True: "ok  ", False: "FAIL", None: "--  "}
        for finding in result.findings:
            self.stdout.write(f"{marks[finding.ok]} {finding.what}: {finding.detail}")
        if result.ok:
            self.stdout.write(f"{result.repository} {result.version}: the attestation holds.")
        else:
            named = "; ".join(f.what for f in result.failures)
            self.stdout.write(f"{result.repository} {result.version}: does NOT hold ({named}).")
