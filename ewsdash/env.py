"""Strict readers for settings taken from the environment.

A malformed value stops start-up with a message naming the variable: a typo in
production configuration must never fall back silently to a default.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"true", "1", "yes", "on"}
FALSE_WORDS = {"false", "0", "no", "off"}


def env_str(name: str, default: str) -> str:
    value = os.environ.get(name)
    if value is None:
        return default
    if not value.strip():
        raise ImproperlyConfigured(f"{name} is set but empty")
    return value.strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be True or False, got {value!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    items = [item.strip() for item in value.split(",")]
    if not all(items):
        raise ImproperlyConfigured(f"{name} must be a comma-separated list, got {value!r}")
    return items


def env_prefixes(
    name: str, default: dict[str, tuple[str, ...]], *, kinds: tuple[str, ...]
) -> dict[str, tuple[str, ...]]:
    """`kind=prefix,prefix;kind=prefix` (e.g. `feature=feature/,feat/;hotfix=hotfix/`).

    A value replaces the whole default; every kind must be one of `kinds`, every prefix
    non-empty and claimed by one kind only.
    """
    value = os.environ.get(name)
    if value is None:
        return default
    found: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        kind, sep, prefixes = part.partition("=")
        kind = kind.strip()
        items = tuple(item.strip() for item in prefixes.split(","))
        if not sep or kind not in kinds or not all(items):
            raise ImproperlyConfigured(
                f"{name} must read kind=prefix,prefix;… with kinds among {', '.join(kinds)}; "
                f"got {part.strip()!r}"
            )
        for item in items:
            if item in owner and owner[item] != kind:
                raise ImproperlyConfigured(
                    f"{name}: prefix {item!r} is given to both {owner[item]} and {kind}"
                )
            owner[item] = kind
        found[kind] = found.get(kind, ()) + items
    return found


def env_role_map(name: str, *, roles: tuple[str, ...]) -> dict[str, str]:
    """`group=role;group=role` (e.g. `ews-admins=admin;ews-staff=viewer`): which role each
    group of an identity provider's group claim gives. A role may be written with `_` for
    its spaces (`release_manager`); a group given two roles is an error."""
    value = os.environ.get(name, "")
    found: dict[str, str] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        group, sep, role = part.rpartition("=")
        group, role = group.strip(), role.strip().replace("_", " ")
        if not sep or not group or role not in roles:
            raise ImproperlyConfigured(
                f"{name} must read group=role;… with roles among {', '.join(roles)}; "
                f"got {part.strip()!r}"
            )
        if found.get(group, role) != role:
            raise ImproperlyConfigured(f"{name}: group {group!r} is given two roles")
        found[group] = role
    return found


def env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    if value is None:
        return default
    path = Path(value.strip()).expanduser()
    if not value.strip() or not path.is_absolute():
        raise ImproperlyConfigured(f"{name} must be an absolute path, got {value!r}")
    return path


def database_from_url(name: str, url: str) -> dict:
    """Parse DATABASE_URL, accepting only the engines ewsdash is tested on."""
    import dj_database_url

    if not url.startswith(("sqlite:///", "postgres://", "postgresql://")):
        raise ImproperlyConfigured(
            f"{name} must start with sqlite:/// or postgresql://, got {url.split(':')[0]!r}"
        )
    try:
        config = dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} is malformed: {error}") from None
    if str(config["ENGINE"]).endswith("sqlite3"):
        # SQLite cannot hold persistent connections across threads usefully; a
        # busy timeout lets the web and the worker share the file.
        config["CONN_MAX_AGE"] = 0
        config["CONN_HEALTH_CHECKS"] = False
        config["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    return config


def broker_url(name: str, default: str) -> str:
    url = env_str(name, default)
    if not url.startswith(("sqla+sqlite:///", "redis://", "rediss://", "memory://")):
        raise ImproperlyConfigured(
            f"{name} must be a redis://, rediss:// or sqla+sqlite:/// URL, got {url!r}"
        )
    return url
