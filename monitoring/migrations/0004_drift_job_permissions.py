from django.db import migrations

from ewsdash.roles import sync_role_groups


def sync_roles(apps, schema_editor):
    # DriftJob and DriftResult are new models: their view_* permissions join every
    # role group here, as the groups only read permissions that existed when synced.
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0003_drift_jobs")]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
