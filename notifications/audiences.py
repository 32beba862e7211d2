"""Who is told about an event, by e-mail and by their own chat URL: the default routing
table (the catalogue's roles, and a candidate's creator), corrected by each person's
preferences and repository scope.

A person's row in `Preference` wins over the default both ways: opted out, nothing; opted
in to an event outside their roles, they get it. Only people with a role and an e-mail
address are e-mailed, and only when the site has a mail server (EWSDASH_NOTIFY_EMAIL_URL).
Chat is off by default: only people who stored a chat URL and ticked the event get it.
A person who chose repositories hears only events of those repositories.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from ewsdash.roles import role_of
from notifications.catalogue import CANDIDATE, CATALOGUE, CatalogueEvent
from notifications.models import PersonalSettings, Preference
from releases.models import AuditEvent, PromotionCandidate


def _creator_id(event: AuditEvent) -> int | None:
    if event.object_type != CANDIDATE or not event.object_id:
        return None
    return (
        PromotionCandidate.objects.filter(pk=int(event.object_id))
        .values_list("created_by_id", flat=True)
        .first()
    )


def _scoped_out(repository_name: str) -> set[int]:
    """People who chose repositories, none of them `repository_name` (one query)."""
    if not repository_name:
        return set()
    chosen: dict[int, set[str]] = {}
    through = PersonalSettings.repositories.through.objects
    for user_id, name in through.values_list("personalsettings__user_id", "repository__name"):
        chosen.setdefault(user_id, set()).add(name)
    return {user_id for user_id, names in chosen.items() if repository_name not in names}


def recipients_for(event: AuditEvent, entry: CatalogueEvent) -> list[Any]:
    """The people e-mailed about `event` (four queries; none without a mail server)."""
    if not settings.EWSDASH_NOTIFY_EMAIL_URL:
        return []
    chosen = dict(Preference.objects.filter(event_key=entry.key).values_list("user_id", "email"))
    users = get_user_model().objects.filter(is_active=True, groups__isnull=False).exclude(email="")
    by_role = set(users.filter(groups__name__in=entry.roles).values_list("pk", flat=True))
    creator = _creator_id(event) if entry.to_creator else None
    default = by_role | ({creator} if creator else set())
    wanted = {pk for pk in default if chosen.get(pk, True)} | {
        pk for pk, on in chosen.items() if on
    }
    wanted -= _scoped_out(event.repository_name)
    return list(users.filter(pk__in=wanted).distinct().order_by("pk"))


def chat_recipients_for(event: AuditEvent, entry: CatalogueEvent) -> list[Any]:
    """The people sent `event` on their own chat URL: they ticked it (chat is off by
    default) and stored a URL (three queries)."""
    wanted = set(
        Preference.objects.filter(event_key=entry.key, chat=True).values_list("user_id", flat=True)
    )
    if not wanted:
        return []
    wanted -= _scoped_out(event.repository_name)
    users = get_user_model().objects.filter(is_active=True, groups__isnull=False, pk__in=wanted)
    users = users.exclude(notification_settings__chat_url_encrypted="").filter(
        notification_settings__isnull=False
    )
    return list(users.distinct().order_by("pk"))


@dataclass(frozen=True)
class PreferenceRow:
    key: str
    sent_when: str  # the catalogue's first title for it, in words
    audience: str
    default: bool  # e-mailed by the routing table, before any choice
    email: bool  # what the person gets now
    chat: bool  # sent to their chat URL (off unless chosen)


def preferences_of(*, user: Any) -> list[PreferenceRow]:
    """Every event key with the user's default and current choice (one query)."""
    chosen: dict[str, bool] = {}
    chat: dict[str, bool] = {}
    for key, email, on in Preference.objects.filter(user=user).values_list(
        "event_key", "email", "chat"
    ):
        chosen[key], chat[key] = email, on
    role = role_of(user)
    rows: dict[str, PreferenceRow] = {}
    for entry in CATALOGUE.values():
        if entry.key in rows:
            continue
        default = role in entry.roles
        rows[entry.key] = PreferenceRow(
            key=entry.key,
            sent_when=entry.title.format(repository="REPO", object="…"),
            audience=entry.audience,
            default=default,
            email=chosen.get(entry.key, default),
            chat=chat.get(entry.key, False),
        )
    return sorted(rows.values(), key=lambda row: row.key)
