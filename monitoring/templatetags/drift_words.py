"""``plain_verdict``: a drift verdict in an analyst's words, with its numbers beside them.

The engine's ``reason`` (monitoring/drift/multiple.py) is written for the record
("effect_below_minimum: ks BH q=2.38e-163 <= alpha, but wasserstein_normed=0.03, psi=0.01
below ..."); pages show this sentence instead and keep the record in the element's title.
A reason in any other form is shown unchanged.
"""

from __future__ import annotations

import re

from django import template

register = template.Library()

TESTS = {"ks": "Kolmogorov-Smirnov", "chi_square": "chi-square"}
EFFECTS = {
    "wasserstein_normed": "shift",
    "psi": "PSI",
    "jensen_shannon": "Jensen-Shannon distance",
}
STATUSES = {
    "empty_reference": "production has no values in this column",
    "empty_current": "the candidate has no values in this column",
    "empty_both": "neither side has values in this column",
    "constant_both": "both sides hold a single constant value",
}
_Q = re.compile(r"^(\w+): (\w+) BH q=([^ ]+) ")
_PAIR = re.compile(r"(\w+)=([-+0-9.eE]+|nan|inf)(?:>=([-+0-9.eE]+))?")


def _effect(name: str, value: str, minimum: str | None = None) -> str:
    label = EFFECTS.get(name, name.replace("_", " "))
    unit = " SD" if name == "wasserstein_normed" else ""
    text = f"{label} {float(value):.2g}{unit}"
    return f"{text} (≥ {float(minimum):.2g})" if minimum else text


@register.filter
def plain_verdict(reason: str | None) -> str:
    if not reason:
        return ""
    if reason.startswith("not_tested: status "):
        status = reason.removeprefix("not_tested: status ")
        words = STATUSES.get(status, status.replace("_", " "))
        return f"Not tested: {words}."
    m = _Q.match(reason)
    if not m:
        return reason
    rule, test, q = m.groups()
    test_name = TESTS.get(test, test)
    q_text = f"q = {float(q):.2g}"
    rest = reason[m.end() :]
    if rule == "not_significant":
        alpha = re.search(r"alpha=([0-9.eE-]+)", rest)
        limit = f" {alpha.group(1)}" if alpha else ""
        return f"No change beyond chance: {test_name} {q_text}, above the{limit} threshold."
    if rule == "effect_below_minimum":
        shown, _, minimums = rest.partition(" below ")
        found = [_effect(n, v) for n, v, _ in _PAIR.findall(shown.removeprefix("<= alpha, but "))]
        mins = {n: v for n, v, _ in _PAIR.findall(minimums.replace(">=", "="))}
        needed = " or ".join(
            f"{EFFECTS.get(n, n)} {float(v):.2g}{' SD' if n == 'wasserstein_normed' else ''}"
            for n, v in mins.items()
        )
        return (
            f"Statistically different ({test_name} {q_text}) but too small to matter: "
            f"{', '.join(found)}; drift needs {needed}."
        )
    if rule == "significant_and_effect":
        fired = [_effect(n, v, lo) for n, v, lo in _PAIR.findall(rest) if lo]
        return f"Changed: {', '.join(fired)}, not chance ({test_name} {q_text})."
    return reason
