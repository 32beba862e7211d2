from django.db import migrations

from ewsdash.roles import sync_role_groups


def create_roles(apps, schema_editor):
    sync_role_groups(apps)


AUDIT_GUARD_SQL = """
CREATE OR REPLACE FUNCTION ewsdash_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER releases_auditevent_append_only
    BEFORE UPDATE OR DELETE ON releases_auditevent
    FOR EACH ROW EXECUTE FUNCTION ewsdash_audit_append_only();
CREATE TRIGGER releases_auditevent_no_truncate
    BEFORE TRUNCATE ON releases_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION ewsdash_audit_append_only();
"""
AUDIT_GUARD_REVERSE = """
DROP TRIGGER IF EXISTS releases_auditevent_append_only ON releases_auditevent;
DROP TRIGGER IF EXISTS releases_auditevent_no_truncate ON releases_auditevent;
DROP FUNCTION IF EXISTS ewsdash_audit_append_only();
"""


def add_audit_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the SQL holds a literal % that must not be read as a placeholder.
        schema_editor.execute(AUDIT_GUARD_SQL, params=None)


def drop_audit_guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(AUDIT_GUARD_REVERSE, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(add_audit_guard, drop_audit_guard),
    ]
