"""`{% failing_channels %}`: the Overview's flag of channels and webhooks that keep failing,
for admins. A tag, so the releases pages show it without importing notifications."""

from __future__ import annotations

from typing import Any

from django import template

from notifications.selectors import failing_targets

register = template.Library()


@register.inclusion_tag("notifications/_failing.html", takes_context=True)
def failing_channels(context: dict[str, Any]) -> dict[str, Any]:
    user = context.get("user")
    allowed = user is not None and user.has_perm("notifications.view_delivery")
    return {"failing": failing_targets() if allowed else []}
