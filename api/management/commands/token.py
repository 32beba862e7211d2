from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.models import ApiToken, TokenScope
from api.tokens import token_create, token_revoke, tokens_of
from releases.errors import ActionRefused


class Command(BaseCommand):
    help = (
        "Personal API tokens: `token create USERNAME --name NAME [--scope read|write|report]` "
        "prints the token once (the last word of the last line); `token list USERNAME`; "
        "`token revoke USERNAME NAME`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Make a token; it is shown once.")
        create.add_argument("username")
        create.add_argument("--name", required=True)
        create.add_argument("--scope", choices=TokenScope.values, default=TokenScope.READ)
        listing = sub.add_parser("list", help="A user's tokens, live and revoked.")
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="End a live token now.")
        revoke.add_argument("username")
        revoke.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"There is no user {options['username']!r}.")
        try:
            if options["action"] == "create":
                token = token_create(
                    user=user, name=options["name"], scope=options["scope"], actor="manage.py"
                )
                self.stdout.write(
                    f"Token {options['name']!r} ({options['scope']}) for {user.get_username()}; "
                    "it is shown only now:"
                )
                self.stdout.write(token)
            elif options["action"] == "list":
                for row in tokens_of(user=user):
                    state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "live"
                    used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
                    self.stdout.write(
                        f"{row.name}\t{row.scope}\tews_{row.prefix}_…\t{state}\tlast used {used}"
                    )
            else:
                live = ApiToken.objects.filter(
                    user=user, name=options["name"], revoked_at__isnull=True
                ).first()
                if live is None:
                    raise CommandError(
                        f"{user.get_username()} has no live token {options['name']!r}."
                    )
                token_revoke(token=live, actor="manage.py")
                self.stdout.write(f"Token {live.name!r} of {user.get_username()} revoked.")
        except ActionRefused as error:
            raise CommandError(str(error)) from None
