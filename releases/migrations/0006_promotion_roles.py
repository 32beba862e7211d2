from django.db import migrations

from ewsdash.roles import sync_role_groups


def grant_read_permissions(apps, schema_editor):
    # Every role reads candidates, approvals and freeze windows.
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0005_promotion_workflow"),
    ]

    operations = [
        migrations.RunPython(grant_read_permissions, migrations.RunPython.noop),
    ]
