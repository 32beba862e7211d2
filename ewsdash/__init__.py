"""The ewsdash project package.

The Celery app (`ewsdash.celery`) is not imported here, so that commands and pages that
queue nothing start without it: `celery -A ewsdash` finds it as `ewsdash.celery.app`,
the tasks modules bind to it with `@app.task`, and `ewsdash.queue` loads it on first use.
"""
