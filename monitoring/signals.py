"""Signals monitoring sends, for apps that depend on it (releases follows its runs)."""

from django.dispatch import Signal

# Sent with `run_id` once a validation run's verdict has committed.
run_finished = Signal()
