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
