"""Every action (a URL that only takes POST) has its behaviour tests here, one file each."""

from pathlib import Path

from tests.test_view_permissions import ACTIONS

HERE = Path(__file__).parent


def test_it_finds_a_behaviour_test_file_for_every_action():
    missing = [
        f"tests/views/test_{name}.py" for name in ACTIONS if not (HERE / f"test_{name}.py").exists()
    ]
    assert missing == [], "write the behaviour tests (effects and audit events) of these actions"
