"""`skill_comparisons`: a skill check's details as rows for its verdict table."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

AGAINST = {"production": "production", "zeros": "all zeros", "last": "last observed value"}


@register.filter
def skill_comparisons(details: Any) -> list[dict[str, Any]]:
    """One row per forecast column, compared forecast and score: the overall verdict, the
    mean scores, and each step's difference with its interval and q-value."""
    rows: list[dict[str, Any]] = []
    if not isinstance(details, dict):
        return rows
    for key, entry in (details.get("compared") or {}).items():
        for against, by_score in entry.get("against", {}).items():
            for score, result in by_score.items():
                steps = result.get("steps", [])
                rows.append(
                    {
                        "forecast": key,
                        "against": AGAINST.get(against, against),
                        "score": score,
                        "verdict": result.get("verdict", ""),
                        "candidate": result.get("candidate"),
                        "reference": result.get("reference"),
                        "better": sum(s.get("verdict") == "better" for s in steps),
                        "worse": sum(s.get("verdict") == "worse" for s in steps),
                        "steps": steps,
                    }
                )
    return rows
