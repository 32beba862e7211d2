"""The forms of a rendered page, read as a browser reads them (action, fields, types)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> attributes


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._open = Form(attributes.get("action", ""), attributes.get("method", "get"))
            self.forms.append(self._open)
        elif tag in ("input", "select", "textarea") and self._open and "name" in attributes:
            self._open.fields[attributes["name"]] = {"tag": tag, **attributes}

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def form_posting_to(html: str, action: str) -> Form:
    """The page's one form whose action is `action`."""
    parser = _Forms()
    parser.feed(html)
    matching = [form for form in parser.forms if form.action == action]
    assert len(matching) == 1, f"{len(matching)} forms post to {action}"
    return matching[0]


def fill(form: Form, **values: str) -> dict[str, str]:
    """The data a browser submits: hidden fields as rendered, the visible ones as typed.

    Every field the form declares must be given (or be hidden), and nothing else."""
    unknown = set(values) - set(form.fields)
    assert not unknown, f"the form has no field {sorted(unknown)}"
    data = {}
    for name, attributes in form.fields.items():
        if name in values:
            data[name] = values[name]
        elif attributes.get("type") == "hidden":
            data[name] = attributes.get("value", "")
        else:
            raise AssertionError(f"fill in {name}")
    return data
