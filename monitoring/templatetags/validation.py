from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def seconds(value: float | None) -> str:
    """12.3 -> "12s", 75 -> "1m 15s", 3700 -> "1h 01m"."""
    if value is None:
        return ""
    total = int(round(value))
    if total < 60:
        return f"{value:.1f}s" if value < 10 else f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


@register.filter
def filesize(value: int | None) -> str:
    if value is None:
        return ""
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(value)


@register.filter
def signed_percent(value: float | None) -> str:
    """0.0234 -> "+2.34%", None -> "—" (no relative change from zero)."""
    if value is None:
        return "—"
    return f"{100 * value:+.2f}%"


@register.filter
def signed(value: float | None) -> str:
    """A change with its sign, six significant digits: -0.0123 -> "-0.0123"."""
    if value is None:
        return "—"
    return f"{value:+.6g}"
