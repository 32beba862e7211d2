"""`repo add | sync | status`: the same services the pages and tasks use."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from releases import selectors, services, sync
from releases.errors import ActionRefused
from releases.models import Repository


def _repository(name: str) -> Repository:
    repository = Repository.objects.filter(name=name).first()
    if repository is None:
        known = ", ".join(Repository.objects.values_list("name", flat=True)) or "none"
        raise CommandError(f"No repository named {name!r} (registered: {known}).")
    return repository


class Command(BaseCommand):
    help = "Register, sync and inspect governed repositories."
    # The system checks load every URL and view (and so the chart and validation engines)
    # for a command that needs none of them; `manage.py check` and the servers run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Register a repository and clone it.")
        add.add_argument("name")
        add.add_argument("--origin", required=True, help="Local path or file/https/ssh URL")
        add.add_argument("--production-branch", default="production")
        add.add_argument("--development-branch", default="development")
        add.add_argument("--required-approvals", type=int, default=2)
        add.add_argument("--authors-may-approve", action="store_true")
        add.add_argument("--manifest-path", default="ewsdash.toml")
        add.add_argument("--forge", choices=["direct", "github"], default="direct")
        add.add_argument("--forge-project", default="", help='On GitHub: "owner/repo"')
        add.add_argument(
            "--forge-token-env",
            default="EWSDASH_GITHUB_TOKEN",
            help="The environment variable that holds the forge's token",
        )
        add.add_argument(
            "--production-protected",
            action="store_true",
            help="Production is protected on the forge: rollbacks go through a pull request",
        )
        add.add_argument(
            "--forge-reviews-approve",
            action="store_true",
            help="Approving pull-request reviews by linked GitHub accounts count as approvals",
        )
        add.add_argument(
            "--partial-clone",
            action="store_true",
            help="Cache clones without file contents (--filter=blob:none); see README",
        )
        add.add_argument("--no-sync", action="store_true", help="Register without the first sync")
        sync = sub.add_parser("sync", help="Fetch the origin and record its branches.")
        sync.add_argument("name")
        sync.add_argument("--force", action="store_true", help="Fetch even if no ref moved")
        status = sub.add_parser("status", help="Show what ewsdash knows.")
        status.add_argument("name")
        status.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action']}")(**options)

    def handle_add(self, **options: Any) -> None:
        try:
            repository = services.repository_create(
                actor="cli",
                name=options["name"],
                origin=options["origin"],
                production_branch=options["production_branch"],
                development_branch=options["development_branch"],
                required_approvals=options["required_approvals"],
                authors_may_approve=options["authors_may_approve"],
                manifest_path=options["manifest_path"],
                forge=options["forge"],
                forge_project=options["forge_project"],
                forge_token_env=options["forge_token_env"],
                production_protected=options["production_protected"],
                forge_reviews_approve=options["forge_reviews_approve"],
                partial_clone=options["partial_clone"],
            )
        except ActionRefused as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Registered {repository.name} from {repository.origin_display}.")
        if not options["no_sync"]:
            self._sync(repository, force=True)

    def handle_sync(self, **options: Any) -> None:
        self._sync(_repository(options["name"]), force=options["force"])

    def _sync(self, repository: Repository, *, force: bool) -> None:
        outcome = sync.repository_sync(repository=repository, actor="cli", force=force)
        if outcome.error:
            raise CommandError(outcome.summary)
        self.stdout.write(outcome.summary)

    def handle_status(self, **options: Any) -> None:
        repository = _repository(options["name"])
        status = selectors.repository_status(repository=repository)
        if options["json"]:
            self.stdout.write(json.dumps(status, indent=2, ensure_ascii=False))
            return
        repo = status["repository"]
        self.stdout.write(f"{repo['name']}  {repo['origin']}")
        self.stdout.write(f"last sync: {repo['last_synced_at'] or 'never'}")
        if repo["last_sync_error"]:
            self.stdout.write(f"last sync error: {repo['last_sync_error']}")
        for b in status["branches"]:
            gone = "  (gone)" if b["gone"] else ""
            self.stdout.write(
                f"  {b['name']:<40} {b['kind']:<12} {b['head'][:8]}  "
                f"prod +{b['ahead_of_production']}/-{b['behind_production']}  "
                f"dev +{b['ahead_of_development']}/-{b['behind_development']}{gone}"
            )
        line = status["production_line"]
        if line["latest_release"]:
            past = line["commits_past_latest"]
            self.stdout.write(
                f"live release: {line['latest_release']}" + (f" (+{past} commits)" if past else "")
            )
        for r in status["releases"]:
            where = "production" if r["on_production"] else "not on production"
            self.stdout.write(f"  {r['tag']:<24} {r['kind']:<10} {r['commit'][:8]}  {where}")
        if status["not_semver_tags"]:
            tags = ", ".join(f"{t['tag']} ({t['reason']})" for t in status["not_semver_tags"])
            self.stdout.write(f"not semver: {tags}")
        upcoming = status["next_version"]
        if upcoming["version"]:
            self.stdout.write(f"next version: {upcoming['tag']} ({upcoming['bump']})")
        for item in status["backports"]:
            self.stdout.write(f"  back-port {item['commit'][:8]} {item['subject']}")
        for incident in status["incidents"]:
            if incident["acknowledged_by"] is None:
                self.stdout.write(
                    f"OPEN INCIDENT #{incident['id']}: {incident['kind']} {incident['ref']} at "
                    f"{incident['commit'][:10]} since {incident['opened_at']}"
                )
