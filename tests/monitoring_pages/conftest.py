import pytest

from tests.monitoring_pages.factories import seed_history


@pytest.fixture
def history(registered):
    return seed_history()
