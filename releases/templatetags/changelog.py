"""`{% changelog_view entries as view %}`: a changelog's groups, long ones collapsed, and
its bot and one-word commits set apart (releases.versioning.changelog_groups)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template

from releases.versioning import changelog_groups

register = template.Library()


@register.simple_tag
def changelog_view(entries: Iterable[Mapping[str, Any]] | None) -> dict[str, Any]:
    groups, noise = changelog_groups(entries or [])
    return {"groups": groups, "noise": noise}
