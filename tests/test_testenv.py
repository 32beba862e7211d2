"""tests/testenv.py: each xdist worker gets its own folder, broker file and Redis database."""

import os
from pathlib import Path

import pytest
from django.conf import settings

from tests.testenv import redis_url_for_worker, worker_index


def test_it_adds_the_worker_index_to_the_redis_database():
    assert redis_url_for_worker("redis://127.0.0.1:6379/8", worker_index("gw1")) == (
        "redis://127.0.0.1:6379/9"
    )
    assert redis_url_for_worker("redis://:pw@redis:6379", 2) == "redis://:pw@redis:6379/2"
    assert redis_url_for_worker("rediss://h:6380/3?ssl_cert_reqs=none", 1) == (
        "rediss://h:6380/4?ssl_cert_reqs=none"
    )


def test_it_leaves_other_brokers_alone():
    url = "sqla+sqlite:////tmp/broker.sqlite3"
    assert redis_url_for_worker(url, 1) == url


def test_it_refuses_a_database_redis_does_not_have():
    with pytest.raises(RuntimeError, match="database 16"):
        redis_url_for_worker("redis://127.0.0.1:6379/15", 1)


@pytest.mark.skipif("PYTEST_XDIST_WORKER" not in os.environ, reason="runs under xdist only")
def test_it_gives_this_worker_its_own_var_folder_and_broker():
    worker = os.environ["PYTEST_XDIST_WORKER"]
    assert Path(settings.VAR_DIR).name == worker
    if settings.CELERY_BROKER_URL.startswith("sqla+sqlite"):
        assert str(settings.VAR_DIR) in settings.CELERY_BROKER_URL
