"""The one Celery app. Workers and beat start with `celery -A ewsdash ...`."""

from __future__ import annotations

import os

from celery import Celery
from kombu.transport import sqlalchemy as sqla_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ewsdash.settings")

app = Celery("ewsdash")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _transport_options() -> dict:
    from django.conf import settings

    url = settings.CELERY_BROKER_URL
    if url.startswith("sqla+sqlite:"):
        # The embedded broker: kombu's SQLAlchemy transport on a SQLite file. Every
        # message is put and taken in a transaction (`BEGIN IMMEDIATE`), so a reader never
        # sees half a message; kombu's filesystem transport could (celery/kombu#1551),
        # which took the demo's worker down.
        return {"connect_args": {"timeout": 30}}
    return {"visibility_timeout": settings.EWSDASH_BROKER_VISIBILITY_TIMEOUT}


def configure() -> None:
    from django.conf import settings

    app.conf.broker_url = settings.CELERY_BROKER_URL
    app.conf.broker_transport_options = _transport_options()
    if app.conf.broker_url.startswith("sqla+sqlite:"):
        # The embedded broker is polled: every 0.2 s rather than kombu's default second, so
        # a webhook's sync starts at once (a cheap indexed read). The transport hands every
        # transport option to SQLAlchemy's create_engine, so the interval is set on it here.
        sqla_transport.Transport.polling_interval = 0.2


configure()
app.autodiscover_tasks()
