"""The one Celery app. Workers and beat start with `celery -A ewsdash ...`."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ewsdash.settings")

app = Celery("ewsdash")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _transport_options() -> dict:
    from django.conf import settings

    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        # kombu's filesystem transport: one folder is both the inbox and outbox,
        # so every process on this machine shares the queue.
        folder = url.removeprefix("filesystem://") or str(settings.VAR_DIR / "broker")
        queue = os.path.join(folder, "queue")
        processed = os.path.join(folder, "processed")
        control = os.path.join(folder, "control")
        for path in (queue, processed, control):
            os.makedirs(path, exist_ok=True)
        return {
            "data_folder_in": queue,
            "data_folder_out": queue,
            "processed_folder": processed,
            # Broadcast (pidbox) files; kombu's default is ./control in the cwd.
            "control_folder": control,
            "store_processed": False,
            "polling_interval": 0.25,
        }
    return {"visibility_timeout": settings.EWSDASH_BROKER_VISIBILITY_TIMEOUT}


def configure() -> None:
    from django.conf import settings

    url = settings.CELERY_BROKER_URL
    app.conf.broker_url = "filesystem://" if url.startswith("filesystem://") else url
    app.conf.broker_transport_options = _transport_options()


configure()
app.autodiscover_tasks()
