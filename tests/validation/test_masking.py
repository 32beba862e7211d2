"""Masking secrets out of logs and files (monitoring/validation/masking.py)."""

import base64
import json
import urllib.parse

from monitoring.validation.masking import Masker

VALUE = "p@ss/word+with=chars"


def test_it_masks_the_value_and_its_common_encodings():
    masker = Masker({"TOKEN": VALUE})
    raw = VALUE.encode()
    text = "\n".join(
        [
            VALUE,
            base64.b64encode(raw).decode(),
            base64.urlsafe_b64encode(raw).decode().rstrip("="),
            urllib.parse.quote(VALUE, safe=""),
            json.dumps({"t": VALUE}),
        ]
    )

    masked = masker.text(text)

    assert masked.count("***TOKEN***") == 5
    assert VALUE not in masked


def test_a_longer_value_containing_a_shorter_one_is_masked_whole():
    masker = Masker({"SHORT": "abcdefgh", "LONG": "abcdefgh-and-more"})

    assert masker.text("x abcdefgh-and-more y abcdefgh") == "x ***LONG*** y ***SHORT***"


def test_it_masks_nested_data_and_files(tmp_path):
    masker = Masker({"TOKEN": VALUE})
    data = {"cmd": f"curl -H {VALUE}", "list": [VALUE, 3], VALUE: None}

    assert masker.data(data) == {
        "cmd": "curl -H ***TOKEN***",
        "list": ["***TOKEN***", 3],
        "***TOKEN***": None,
    }
    leaked, clean = tmp_path / "a.bin", tmp_path / "b.bin"
    leaked.write_bytes(b"\x00\x01" + VALUE.encode() + b"\xff")
    clean.write_bytes(b"\x00nothing\xff")
    assert masker.file(leaked) and not masker.file(clean)
    assert leaked.read_bytes() == b"\x00\x01***TOKEN***\xff"


def test_no_secrets_masks_nothing():
    masker = Masker({})
    assert not masker
    assert masker.text("anything") == "anything"
