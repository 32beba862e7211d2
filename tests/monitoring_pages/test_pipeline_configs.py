"""Model and ensemble configs are read from their text, in every shape VIEWS uses, never run."""

import pytest

from monitoring.pipeline_configs import (
    ConfigFolder,
    Unreadable,
    config_folders,
    item_from_folder,
    read_config,
)
from tests.monitoring_pages import views_shapes as shapes

PATH = "models/bad_blood/configs/config_deployment.py"


def read(text: str) -> dict[str, str]:
    return read_config(text.encode(), path=PATH)


@pytest.mark.parametrize(
    "shape",
    [
        shapes.DOCSTRING_ONE_LINE,
        shapes.MULTI_LINE_COMMENTED,
        shapes.WITH_SERVER_SETTINGS,
        shapes.BARE,
    ],
    ids=["one-line", "multi-line", "server-settings", "bare"],
)
@pytest.mark.parametrize("status", ["shadow", "deployed", "baseline", "deprecated"])
def test_it_reads_every_deployment_shape(shape, status):
    assert read(shapes.deployment(shape, status)) == {"deployment_status": status}


def test_it_reads_maturity():
    assert read(shapes.deployment(shapes.MATURITY, "graduate")) == {"maturity": "graduate"}


def test_it_reads_both_keys_from_one_file():
    text = (
        "def get_deployment_config():\n"
        "    return {'deployment_status': 'shadow', 'maturity': 'candidate'}\n"
    )
    assert read(text) == {"deployment_status": "shadow", "maturity": "candidate"}


def test_it_follows_keys_set_and_updated_after_the_dict():
    text = (
        "def get_deployment_config():\n"
        "    config = dict(port=8000)\n"
        "    config['deployment_status'] = 'Deployed'\n"
        "    config.update({'maturity': 'graduate'})\n"
        "    return config\n"
    )
    assert read(text) == {"deployment_status": "deployed", "maturity": "graduate"}


def test_it_still_reads_the_module_level_assignment():
    assert read('deployment_status: str = "shadow"  # note\n') == {"deployment_status": "shadow"}
    assert read("# deployment_status = 'deployed'\n") == {}


def test_it_never_runs_the_file(tmp_path):
    marker = tmp_path / "ran"
    text = (
        f"open({str(marker)!r}, 'w').write('x')\n"
        "def get_deployment_config():\n"
        f"    open({str(marker)!r}, 'w').write('x')\n"
        "    return {'deployment_status': 'shadow'}\n"
    )
    assert read(text) == {"deployment_status": "shadow"}
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "def get_deployment_config():\n    return {'deployment_status': STATUS}\n",
            f"{PATH}, line 2: deployment_status is not a literal string (STATUS)",
        ),
        (
            "def get_deployment_config():\n    return build()\n",
            f"{PATH}, line 2: get_deployment_config() returns build(), not a dict literal",
        ),
        (
            "def get_deployment_config():\n    config = load()\n    return config\n",
            f"{PATH}, line 3: get_deployment_config() returns config, which is not a dict literal",
        ),
        (
            "def get_deployment_config():\n    return config\n",
            f"{PATH}, line 2: get_deployment_config() returns config, which is not assigned in it",
        ),
        (
            "def get_deployment_config(:\n",
            f"{PATH}, line 1: not valid Python (",
        ),
        ("deployment_status = compute()\n", f"{PATH}, line 1: deployment_status is not a literal"),
    ],
    ids=["name-value", "call", "assigned-call", "unassigned", "syntax", "module-call"],
)
def test_what_cannot_be_read_is_named_with_the_reason(text, reason):
    with pytest.raises(Unreadable) as error:
        read(text)
    assert str(error.value).startswith(reason)


def test_bytes_that_are_not_utf8_or_too_large_are_refused():
    with pytest.raises(Unreadable, match="not UTF-8"):
        read_config(b"\xff\xfe", path=PATH)
    with pytest.raises(Unreadable, match="larger than a config can be"):
        read_config(b"#" * 300_000, path=PATH)


def test_folders_are_found_for_models_and_ensembles_only():
    listing = [
        ("models/bad_blood/configs/config_deployment.py", "b1"),
        ("models/bad_blood/configs/config_meta.py", "b2"),
        ("ensembles/white_mustang/configs/config_deployment.py", "b3"),
        ("ensembles/white_mustang/configs/config_maturity.py", "b4"),
        ("models/no_status/configs/config_meta.py", "b5"),
        ("apis/un_fao/configs/config_deployment.py", "b6"),
        ("models/bad_blood/main.py", "b7"),
        ("meta_tools/templates/model/template_config_deployment.py", "b8"),
    ]
    folders = config_folders(listing)
    assert [(f.kind, f.name, f.chosen) for f in folders] == [
        ("ensemble", "white_mustang", "config_maturity.py"),
        ("model", "bad_blood", "config_deployment.py"),
        ("model", "no_status", None),
    ]


def test_items_say_what_is_missing_or_unknown():
    missing = ConfigFolder("models", "no_status", {"config_meta.py": "b"})
    assert item_from_folder(missing, None).as_json() == {
        "name": "no_status",
        "kind": "model",
        "status": None,
        "maturity": None,
        "path": "models/no_status/configs",
        "problem": "no config_deployment.py or config_maturity.py in models/no_status/configs",
    }
    odd = ConfigFolder("models", "odd", {"config_deployment.py": "b"})
    item = item_from_folder(odd, shapes.deployment(shapes.BARE, "live").encode())
    assert item.status == "live"
    assert item.problem == (
        "models/odd/configs/config_deployment.py: unknown deployment_status 'live' "
        "(known: shadow, deployed, baseline, deprecated)"
    )
    empty = item_from_folder(odd, b"def get_deployment_config():\n    return {}\n")
    assert empty.problem.endswith("declares neither deployment_status nor maturity")
    broken = item_from_folder(odd, b"def get_deployment_config(:\n")
    assert (broken.status, broken.maturity) == (None, None)
    assert "not valid Python" in broken.problem
