"""Masking secret values out of what a check leaves behind (its log, summary, files).

A value is replaced by ``***NAME***`` wherever it appears as is, and in the encodings a
program most often prints a credential in by accident: base64 (standard and URL-safe,
with or without padding, of the value alone), percent-encoding (a URL's query) and
JSON string escaping. A value split across lines, hashed, encrypted, or encoded in any
other way is *not* found: masking is a safety net for mistakes, not a defence against a
check that wants to leak (the check is trusted with the secret it names; DESIGN.md).

Values shorter than :data:`MIN_SECRET_LENGTH` are refused when set, since masking a
three-letter value would mangle every log. Nothing here imports Django.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["MIN_SECRET_LENGTH", "Masker"]

MIN_SECRET_LENGTH = 8


def _forms(value: str) -> set[str]:
    raw = value.encode()
    forms = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)}
    forms.add(json.dumps(value)[1:-1])
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode()
        forms.add(text)
        forms.add(text.rstrip("="))
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class Masker:
    """Replaces the values of ``secrets`` ({name: value}) and their common encodings."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        pairs = [
            (form, f"***{name}***") for name, value in secrets.items() for form in _forms(value)
        ]
        # Longest first: a value that contains another is masked whole.
        self.pairs = sorted(pairs, key=lambda pair: -len(pair[0]))

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def text(self, text: str) -> str:
        for form, mark in self.pairs:
            if form in text:
                text = text.replace(form, mark)
        return text

    def data(self, value: Any) -> Any:
        """A JSON-able value with every string masked (keys too)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(item) for item in value]
        return value

    def file(self, path: Path) -> bool:
        """Mask the file in place; True when it held a secret.

        Bytes are replaced as they are, in any file: a binary file (parquet) that held a
        secret is changed, and will likely no longer read; better a broken artifact than a
        leaked credential (the check's details name the file).
        """
        data = path.read_bytes()
        masked = data
        for form, mark in self.pairs:
            masked = masked.replace(form.encode(), mark.encode())
        if masked == data:
            return False
        path.write_bytes(masked)
        return True
