"""Staging validation without Django: the manifest, the command runner and the file checks.

Nothing in this package imports Django, so it can be used and tested on its own; the
Celery task in ``monitoring`` stores what these functions return.
"""

from .checks import check_environment, check_files, command_line, evaluate_check
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
    "CheckOutcome",
    "CheckSpec",
    "ColumnRule",
    "CommandResult",
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
    "evaluate_check",
    "expand_placeholders",
    "file_record",
    "find_files",
    "is_count_target",
    "load_metrics",
    "metric_direction",
    "parse_duration",
    "parse_manifest",
    "run_command",
    "safe_environment",
    "sha256_file",
]
