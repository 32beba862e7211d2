from django.db import migrations

from ewsdash.roles import sync_role_groups


def sync_roles(apps, schema_editor):
    # The role groups read every view_* permission of releases and monitoring; the
    # models above are new, so their permissions join the groups here.
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0001_validation"),
        ("releases", "0002_roles_and_audit_guard"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
