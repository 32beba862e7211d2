from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the `check --deploy` check of the sandbox (imports models: not at import).
        from monitoring import sandboxing  # noqa: F401
