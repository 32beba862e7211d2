"""Build the demo pipeline repository, register it, queue its sync, and create demo users."""

from __future__ import annotations

import shutil
from typing import Any

from celery import chain
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from ewsdash.roles import ADMIN, ANALYST, RELEASE_MANAGER, VIEWER
from monitoring.tasks import validation_runs_for_releases
from releases import services, sync
from releases.audit import audit_record
from releases.demo_pipeline import build_demo_origin
from releases.errors import ActionRefused
from releases.models import GitIdentity, Repository
from releases.tasks import candidate_create, repository_sync

DEMO_REPOSITORY = "views-pipeline"
DEMO_PASSWORD = "ewsdash-demo"
DEMO_USERS = {
    "admin": ADMIN,
    "rm-ana": RELEASE_MANAGER,
    "rm-ben": RELEASE_MANAGER,
    "analyst": ANALYST,
    "viewer": VIEWER,
}


class Command(BaseCommand):
    help = "Seed the demo: a realistic pipeline repository and one user per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sync-here",
            action="store_true",
            help="Sync in this process instead of queueing it for the worker",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        repository = Repository.objects.filter(name=DEMO_REPOSITORY).first()
        if repository is None:
            repository = self._register()
        else:
            self.stdout.write(f"The demo repository {DEMO_REPOSITORY} is already registered.")
        self._users()
        if options["sync_here"]:
            self.stdout.write(sync.repository_sync(repository=repository).summary)
        else:
            # The worker syncs first, then validates each release so model health has a
            # history to draw, then freezes development as rm-ana's first candidate (its
            # validation shows checks, drift and a performance regression to look into).
            chain(
                repository_sync.si(repository_id=repository.pk),
                validation_runs_for_releases.si(repository_id=repository.pk),
                candidate_create.si(repository_id=repository.pk, username="rm-ana"),
            ).delay()
            self.stdout.write(
                "Sync, release validations and a first candidate queued: the "
                "worker starts on them as soon as it runs."
            )
        self.stdout.write(
            f"Sign in (at the address bin/serve prints) as {', '.join(DEMO_USERS)} "
            f"(password {DEMO_PASSWORD})."
        )

    def _register(self) -> Repository:
        root = settings.VAR_DIR / "demo"
        # Only ever the demo's own folder: the origin is rebuilt when unregistered.
        shutil.rmtree(root / f"{DEMO_REPOSITORY}.git", ignore_errors=True)
        origin = build_demo_origin(root, name=DEMO_REPOSITORY)
        try:
            repository = services.repository_create(
                actor="seed_demo", name=DEMO_REPOSITORY, origin=str(origin.path)
            )
        except ActionRefused as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Built and registered the demo repository at {origin.path}.")
        return repository

    def _users(self) -> None:
        User = get_user_model()
        for username, role in DEMO_USERS.items():
            with transaction.atomic():
                user, created = User.objects.get_or_create(
                    username=username, defaults={"email": f"{username}@ewsdash.example"}
                )
                user.set_password(DEMO_PASSWORD)
                user.is_staff = user.is_superuser = role == ADMIN
                user.save()
                user.groups.set([Group.objects.get(name=role)])
                audit_record(
                    actor="seed_demo",
                    action="user.created" if created else "user.reset",
                    obj=user,
                    payload={"role": role},
                )
        # Each demo user commits as their e-mail, confirmed (as an admin would) so that
        # they may approve.
        admin = User.objects.get(username="admin")
        for username in DEMO_USERS:
            user = User.objects.get(username=username)
            with transaction.atomic():
                identity, created = GitIdentity.objects.get_or_create(
                    email=user.email,
                    defaults={"user": user, "confirmed_by": admin, "confirmed_at": timezone.now()},
                )
                if created:
                    audit_record(
                        actor="seed_demo",
                        action="identity.confirmed",
                        obj=identity,
                        payload={"user": username, "email": identity.email},
                    )
        self.stdout.write(f"Demo users: {', '.join(DEMO_USERS)}.")
