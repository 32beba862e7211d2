"""Staging validation without Django: the manifest, the check kinds, the command runner and
the file checks.

``manifest`` parses the manifest (the fields every check has) and hands each check's own
fields to its kind; ``kinds/`` holds one module per kind of check (its fields, its output,
whether it compares with production, its verdict); ``checks`` and ``patterns`` are what the
kinds share; ``predictions``, ``schema`` and ``metrics`` are the rules the built-in kinds
apply, ``process`` runs a command. Nothing in this package imports Django, so it can be
used and tested on its own; the Celery task in ``monitoring`` reads the production
baseline, asks the check's kind to judge, and stores what it returns.
"""

import importlib
from typing import TYPE_CHECKING, Any

# The names below load their module on first use (PEP 562), so that importing one light
# module of this package (the sandbox, when Django starts) does not load pyarrow and the
# drift engine with it: `manage.py repo status` stays fast.
if TYPE_CHECKING:
    from .checks import check_environment, check_files, command_line
    from .kinds import KIND_NAMES, KINDS, CheckKind, JudgeContext, get_kind
    from .manifest import (
        CheckSpec,
        ColumnRule,
        Manifest,
        ManifestError,
        PathEscapeError,
        expand_placeholders,
        find_files,
        parse_duration,
        parse_manifest,
    )
    from .metrics import MetricRow, MetricsError, check_performance, load_metrics, metric_direction
    from .outcome import CheckOutcome, file_record, sha256_file
    from .predictions import check_inference, is_count_target
    from .process import CommandResult, LogSnapshot, run_command, safe_environment
    from .schema import check_schema

_HOMES = {
    "CheckKind": "kinds",
    "CheckOutcome": "outcome",
    "CheckSpec": "manifest",
    "ColumnRule": "manifest",
    "CommandResult": "process",
    "JudgeContext": "kinds",
    "KINDS": "kinds",
    "KIND_NAMES": "kinds",
    "LogSnapshot": "process",
    "Manifest": "manifest",
    "ManifestError": "manifest",
    "MetricRow": "metrics",
    "MetricsError": "metrics",
    "PathEscapeError": "manifest",
    "check_environment": "checks",
    "check_files": "checks",
    "check_inference": "predictions",
    "check_performance": "metrics",
    "check_schema": "schema",
    "command_line": "checks",
    "expand_placeholders": "manifest",
    "file_record": "outcome",
    "find_files": "manifest",
    "get_kind": "kinds",
    "is_count_target": "predictions",
    "load_metrics": "metrics",
    "metric_direction": "metrics",
    "parse_duration": "manifest",
    "parse_manifest": "manifest",
    "run_command": "process",
    "safe_environment": "process",
    "sha256_file": "outcome",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)


__all__ = [
    "KINDS",
    "KIND_NAMES",
    "CheckKind",
    "CheckOutcome",
    "CheckSpec",
    "ColumnRule",
    "CommandResult",
    "JudgeContext",
    "LogSnapshot",
    "Manifest",
    "ManifestError",
    "MetricRow",
    "MetricsError",
    "PathEscapeError",
    "check_environment",
    "check_files",
    "check_inference",
    "check_performance",
    "check_schema",
    "command_line",
    "expand_placeholders",
    "file_record",
    "find_files",
    "get_kind",
    "is_count_target",
    "load_metrics",
    "metric_direction",
    "parse_duration",
    "parse_manifest",
    "run_command",
    "safe_environment",
    "sha256_file",
]
