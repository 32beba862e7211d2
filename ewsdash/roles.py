"""The four roles of the design's table, as Django groups with permissions.

The table below is the single source of truth: a data migration creates the
groups from it, and later migrations call `sync_role_groups` again when they add
permissions.
"""

from __future__ import annotations

from typing import Any

VIEWER = "viewer"
ANALYST = "analyst"
RELEASE_MANAGER = "release manager"
ADMIN = "admin"
ROLE_ORDER = (ADMIN, RELEASE_MANAGER, ANALYST, VIEWER)

# Custom permissions live on releases.Repository: every action is about one
# governed repository.
ANALYST_ACTIONS = ["start_drift_job", "annotate_chart"]
RELEASE_MANAGER_ACTIONS = [
    "sync_repository",
    "create_candidate",
    "rerun_validation",
    "cut_hotfix",
    "merge_production",
    "approve_candidate",
    "promote_candidate",
    "record_outcomes",
]
ADMIN_ACTIONS = [
    "rollback_release",
    "waive_check",
    "manage_freeze",
    "reconcile_operation",
    "acknowledge_incident",
    "add_repository",
    "change_repository",
]
ADMIN_AUTH = ["view_user", "add_user", "change_user", "view_group", "change_group"]
# Channel URLs may hold secrets, and deliveries show them failing: admins only.
ADMIN_NOTIFICATIONS = [
    "view_channel",
    "add_channel",
    "change_channel",
    "delete_channel",
    "view_delivery",
    "redeliver_delivery",
    "view_webhook",
    "add_webhook",
    "change_webhook",
    "delete_webhook",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    VIEWER: [],
    ANALYST: ANALYST_ACTIONS,
    RELEASE_MANAGER: ANALYST_ACTIONS + RELEASE_MANAGER_ACTIONS,
    ADMIN: ANALYST_ACTIONS + RELEASE_MANAGER_ACTIONS + ADMIN_ACTIONS,
}
READ_APPS = ("releases", "monitoring")


def sync_role_groups(apps: Any) -> None:
    """Create or update the role groups (callable from a migration's RunPython)."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations ran; create them now
    # so the groups can point at them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    read = list(
        Permission.objects.filter(
            content_type__app_label__in=READ_APPS, codename__startswith="view_"
        )
    )
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        granted = list(
            Permission.objects.filter(
                content_type__app_label="releases",
                content_type__model="repository",
                codename__in=codenames,
            )
        )
        if role == ADMIN:
            granted += list(
                Permission.objects.filter(content_type__app_label="auth", codename__in=ADMIN_AUTH)
            )
            granted += list(
                Permission.objects.filter(
                    content_type__app_label="notifications", codename__in=ADMIN_NOTIFICATIONS
                )
            )
        group.permissions.set(read + granted)


# The permission that only a role (and the roles above it) holds, highest role first.
ROLE_MARKERS = (
    (ADMIN, "releases.rollback_release"),
    (RELEASE_MANAGER, "releases.approve_candidate"),
    (ANALYST, "releases.start_drift_job"),
    (VIEWER, "releases.view_repository"),
)


def role_of(user: Any) -> str | None:
    """The highest role a user holds, or None for a user with no role.

    Read from the user's permissions (cached per request), so showing the role costs
    no query of its own.
    """
    if not user.is_authenticated:
        return None
    return next((role for role, perm in ROLE_MARKERS if user.has_perm(perm)), None)
