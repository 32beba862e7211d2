"""PostgreSQL roles: migrations run as the role that owns the tables; the application runs
as another (`EWSDASH_DB_APP_ROLE`), which may read and write its tables but only read and
append to the audit log, and, not owning it, cannot switch its append-only trigger off.

After every `migrate` (as the owner) the grants are brought up to date for tables the
migration added, so the application role never needs more than this.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

AUDIT_TABLE = "releases_auditevent"


def grant_app_role(connection: BaseDatabaseWrapper, role: str) -> None:
    """Grant `role` what the running application needs, and nothing on the audit log
    beyond SELECT and INSERT."""
    quoted = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
        cursor.execute(f"REVOKE ALL ON {AUDIT_TABLE} FROM {quoted}")
        cursor.execute(f"GRANT SELECT, INSERT ON {AUDIT_TABLE} TO {quoted}")


def grant_after_migrate(sender: Any, *, using: str = "default", **kwargs: Any) -> None:
    """post_migrate: keep the application role's grants current (PostgreSQL only)."""
    role = settings.EWSDASH_DB_APP_ROLE
    connection = connections[using]
    if role and connection.vendor == "postgresql":
        grant_app_role(connection, role)


def audit_table_risk(connection: BaseDatabaseWrapper) -> str | None:
    """Why the connected role could switch the audit log's guard off, or None."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.rolsuper, pg_has_role(current_user, t.tableowner, 'USAGE'), current_user"
            " FROM pg_roles r, pg_tables t WHERE r.rolname = current_user AND t.tablename = %s",
            [AUDIT_TABLE],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    superuser, owner, user = row
    if superuser:
        return f"the database role {user} is a superuser"
    if owner:
        return f"the database role {user} owns the audit table"
    return None
