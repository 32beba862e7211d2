from django.db import migrations

from ewsdash.roles import sync_role_groups


def grant_read_permissions(apps, schema_editor):
    # Every role reads every page: the new models' view_* permissions join the groups.
    sync_role_groups(apps)


def forget_ref_digests(apps, schema_editor):
    # An unchanged origin skips the fetch; clearing the digest makes the next sync of
    # every repository read its releases once.
    apps.get_model("releases", "Repository").objects.update(refs_digest="")


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0003_releases_and_backports"),
    ]

    operations = [
        migrations.RunPython(grant_read_permissions, migrations.RunPython.noop),
        migrations.RunPython(forget_ref_digests, migrations.RunPython.noop),
    ]
