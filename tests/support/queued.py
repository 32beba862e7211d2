"""The task messages a transaction would send on commit, among its other on-commit work
(every audit event also appends its anchor on commit: releases/audit.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable


def enqueued(callbacks: Iterable[Callable]) -> list[Callable]:
    """The callbacks `ewsdash.queue.enqueue_on_commit` registered."""
    return [c for c in callbacks if "enqueue_on_commit" in c.__qualname__]
