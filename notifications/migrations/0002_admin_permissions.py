from django.db import migrations

from ewsdash.roles import sync_role_groups


def sync_roles(apps, schema_editor):
    # Channels and deliveries are new models: the admin role gets their permissions here.
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("releases", "0008_repositories_are_archived_never_deleted"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
