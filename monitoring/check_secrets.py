"""Repositories' secrets for their checks (issue 17): set, delete, list, hand to a check.

An admin sets a secret on the repository's Secrets page; only its ciphertext is stored,
encrypted with Fernet (AES-128-CBC and HMAC-SHA256) under a key that is never in the
database: ``EWSDASH_SECRETS_KEY`` (comma-separated keys) or the file
``EWSDASH_SECRETS_KEY_FILE`` (one key a line). The first key encrypts and every key
decrypts (``MultiFernet``), so a key is rotated by putting a new one first and running
``manage.py secrets rotate``. The value is never shown again: pages list names, who set
them, when.

A check is handed a secret only when its manifest entry names it
(``secrets = ["VIEWSER_TOKEN"]``), as an environment variable of its command in the
sandbox; every hand-out is audited (``secret.used``: which run, check and names, never
the values), and the worker masks the values out of the log, the summary and the files
(``monitoring.validation.masking``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction

from monitoring.models import RepositorySecret, ValidationRun
from monitoring.validation.manifest import secret_name_problem
from monitoring.validation.masking import MIN_SECRET_LENGTH
from releases.access import require_permission
from releases.audit import audit_record
from releases.errors import ActionRefused
from releases.models import Repository

MAX_SECRET_LENGTH = 16 * 1024
NO_KEY = (
    "No secrets key is configured: set EWSDASH_SECRETS_KEY (or EWSDASH_SECRETS_KEY_FILE) to a "
    "Fernet key (python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())')."
)


class SecretsUnavailable(Exception):
    """No key, a bad key, or a ciphertext no configured key opens."""


def _keys() -> list[str]:
    keys = [key.strip() for key in settings.EWSDASH_SECRETS_KEY.split(",") if key.strip()]
    if settings.EWSDASH_SECRETS_KEY_FILE:
        try:
            text = Path(settings.EWSDASH_SECRETS_KEY_FILE).read_text()
        except OSError as error:
            raise SecretsUnavailable(f"cannot read EWSDASH_SECRETS_KEY_FILE: {error}") from None
        keys += [line.strip() for line in text.splitlines() if line.strip()]
    return keys


def _fernet() -> MultiFernet:
    keys = _keys()
    if not keys:
        raise SecretsUnavailable(NO_KEY)
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise SecretsUnavailable(f"a secrets key is not a Fernet key: {error}") from None


def secrets_configured() -> bool:
    try:
        _fernet()
    except SecretsUnavailable:
        return False
    return True


def _decrypt(row: RepositorySecret) -> str:
    try:
        return _fernet().decrypt(row.ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretsUnavailable(
            f"secret {row.name} of {row.repository.name} cannot be decrypted with the "
            "configured keys (a key was removed before the secret was rotated to a new one)"
        ) from None


# -- services -------------------------------------------------------------------------------


def secret_set(*, repository: Repository, name: str, value: str, actor: Any) -> RepositorySecret:
    """Create or replace secret ``name`` of ``repository`` (admins: change_repository)."""
    require_permission(actor, "change_repository")
    name = name.strip()
    problem = secret_name_problem(name)
    if problem is not None:
        raise ActionRefused(f"A secret's name is the environment variable it becomes: {problem}.")
    if not MIN_SECRET_LENGTH <= len(value) <= MAX_SECRET_LENGTH:
        raise ActionRefused(
            f"A secret's value must be {MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} characters "
            "(shorter values could not be masked in logs without mangling them)."
        )
    try:
        ciphertext = _fernet().encrypt(value.encode()).decode()
    except SecretsUnavailable as error:
        raise ActionRefused(str(error)) from None
    with transaction.atomic():
        row = (
            RepositorySecret.objects.select_for_update()
            .filter(repository=repository, name=name)
            .first()
        )
        created = row is None
        if row is None:
            row = RepositorySecret(repository=repository, name=name, created_by=actor)
        row.ciphertext = ciphertext
        row.updated_by = actor
        row.save()
        audit_record(
            actor=actor,
            action="secret.created" if created else "secret.updated",
            obj=row,
            repository=repository,
            payload={"name": name},
        )
    return row


def secret_delete(*, secret: RepositorySecret, actor: Any) -> None:
    require_permission(actor, "change_repository")
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="secret.deleted",
            obj=secret,
            repository=secret.repository,
            payload={"name": secret.name},
        )
        secret.delete()


def secret_rotate(*, actor: Any = "manage.py") -> int:
    """Re-encrypt every secret under the first key (after a new key was put first)."""
    fernet = _fernet()
    with transaction.atomic():
        rows = list(RepositorySecret.objects.select_for_update().select_related("repository"))
        for row in rows:
            try:
                row.ciphertext = fernet.rotate(row.ciphertext.encode()).decode()
            except InvalidToken:
                raise SecretsUnavailable(
                    f"secret {row.name} of {row.repository.name} cannot be decrypted with the "
                    "configured keys; nothing was rotated"
                ) from None
            row.save(update_fields=["ciphertext"])
        audit_record(
            actor=actor,
            action="secret.rotated",
            payload={"secrets": [f"{row.repository.name}/{row.name}" for row in rows]},
        )
    return len(rows)


def secrets_hand_out(*, run: ValidationRun, check: str, names: Sequence[str]) -> dict[str, str]:
    """The values of secrets ``names`` for check ``check`` of ``run``, audited.

    Raises SecretsUnavailable, saying which, when one is not set or cannot be decrypted:
    the check then ends `error` without running.
    """
    if not names:
        return {}
    rows = {
        row.name: row
        for row in RepositorySecret.objects.filter(
            repository_id=run.repository_id, name__in=list(names)
        ).select_related("repository")
    }
    missing = [name for name in names if name not in rows]
    if missing:
        raise SecretsUnavailable(
            f"the manifest hands this check the secret(s) {', '.join(missing)}, which "
            f"{run.repository.name} does not have; an admin can set them on the repository's "
            "Secrets page"
        )
    values = {name: _decrypt(rows[name]) for name in names}
    with transaction.atomic():
        audit_record(
            actor=None,
            action="secret.used",
            obj=run,
            repository=run.repository,
            payload={"run": run.pk, "check": check, "commit": run.commit, "names": list(names)},
        )
    return values


# -- selectors ------------------------------------------------------------------------------


def secrets_of(*, repository: Repository) -> list[RepositorySecret]:
    """The repository's secrets for its page: names and who set them, never the values."""
    return list(
        RepositorySecret.objects.filter(repository=repository)
        .select_related("created_by", "updated_by")
        .defer("ciphertext")
    )
