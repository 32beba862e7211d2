from typing import Any

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: app modules may load models only once the registry
        # is ready. The audit writer announces each event; the outbox listens, so releases
        # never imports notifications.
        from notifications.outbox import outbox_write
        from releases.audit import audit_recorded

        def write(sender: Any, *, event: Any, **kwargs: Any) -> None:
            outbox_write(event=event)

        audit_recorded.connect(write, dispatch_uid="notifications.outbox_write", weak=False)
