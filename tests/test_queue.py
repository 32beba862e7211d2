"""Services queue work by task name (ewsdash.queue); every name must be a real task."""

import pytest

from ewsdash import queue
from ewsdash.celery import app


@pytest.mark.parametrize("name", queue.TASK_NAMES)
def test_every_queued_name_is_a_registered_task(name):
    app.loader.import_default_modules()
    assert name in app.tasks


def test_it_refuses_an_unknown_task_name():
    with pytest.raises(ValueError, match="unknown task"):
        queue.enqueue_on_commit("releases.tasks.no_such_task")


def test_the_beat_schedule_names_registered_tasks(settings):
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
