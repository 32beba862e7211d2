"""`validate NAME REF [--wait] [--json]`: start a validation run through the same service as
the page; with --wait, print its verdict (--json: one JSON object) and exit 0 only when it
passed."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring import runs
from monitoring.models import CheckResult, RunPurpose, RunStatus, ValidationRun
from releases.errors import ActionRefused
from releases.models import Repository


class Command(BaseCommand):
    help = "Validate a commit (branch, tag or sha) of a registered repository on the workers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="registered repository")
        parser.add_argument("ref", help="branch, tag or commit")
        parser.add_argument(
            "--wait", action="store_true", help="wait for the verdict; exit 1 unless the run passed"
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="with --wait: print the verdict as one JSON object (run, commit, status, "
            "summary, manifest, checks) and nothing else",
        )
        parser.add_argument(
            "--timeout", type=float, default=3 * 3600, help="seconds to wait at most (with --wait)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        repository = Repository.objects.filter(name=options["name"]).first()
        if repository is None:
            raise CommandError(f"No repository named {options['name']!r}.")
        try:
            run = runs.validation_run_start(
                repository=repository,
                commit=options["ref"],
                actor="manage.py validate",
                purpose=RunPurpose.MANUAL,
            )
        except ActionRefused as error:
            raise CommandError(str(error)) from None
        as_json = options["json"]
        if as_json and not options["wait"]:
            raise CommandError("--json needs --wait (it prints the verdict)")
        if not as_json:
            self.stdout.write(
                f"validation run #{run.pk} of {run.commit} (attempt {run.attempt}): {run.status}"
            )
        if not options["wait"]:
            return
        deadline = time.monotonic() + options["timeout"]
        while not run.is_finished:
            if time.monotonic() > deadline:
                raise CommandError(f"run #{run.pk} still {run.status} after {options['timeout']}s")
            time.sleep(1)
            run = ValidationRun.objects.get(pk=run.pk)
        if as_json:
            self.stdout.write(json.dumps(verdict_json(run), indent=2))
            if run.status != RunStatus.PASSED:
                raise CommandError(f"validation {run.status}", returncode=1)
            return
        for check in CheckResult.objects.filter(run=run).order_by("position"):
            advisory = "" if check.required else " (advisory)"
            self.stdout.write(f"  {check.status:<10} {check.name}{advisory}: {check.summary}")
        if run.manifest_error:
            self.stdout.write(f"  {run.manifest_error}")
        self.stdout.write(f"run #{run.pk}: {run.status} — {run.summary}")
        if run.status != RunStatus.PASSED:
            raise CommandError(f"validation {run.status}", returncode=1)


def verdict_json(run: ValidationRun) -> dict[str, Any]:
    """The run's verdict as `validate --wait --json` prints it."""
    return {
        "run": run.pk,
        "commit": run.commit,
        "status": run.status,
        "summary": run.summary,
        "manifest": {"source": run.manifest_source, "changed": run.manifest_changed},
        "checks": [
            {
                "name": check.name,
                "kind": check.kind,
                "required": check.required,
                "status": check.status,
                "summary": check.summary,
            }
            for check in CheckResult.objects.filter(run=run).order_by("position")
        ],
    }
