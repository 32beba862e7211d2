from typing import Any

from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: app modules may load models only once the
        # registry is ready. Candidates take a run's verdict when monitoring says it
        # finished, so monitoring never imports releases' services.
        from django.db.models.signals import post_migrate

        from monitoring.signals import run_finished
        from releases.db_roles import grant_after_migrate

        post_migrate.connect(grant_after_migrate, sender=self, dispatch_uid="releases.grants")

        def follow(sender: Any, *, run_id: int, **kwargs: Any) -> None:
            # Imported when a run first finishes, not at start-up: the candidate services
            # pull in the validation engine (pyarrow), which a page or a command that
            # never follows a run should not pay for.
            from releases.candidates import candidates_follow_run

            candidates_follow_run(run_id=run_id)

        run_finished.connect(follow, dispatch_uid="releases.candidates_follow_run", weak=False)
