"""The exit codes of the ``bluegreen`` command (the table is in ``bluegreen.cli``'s docstring
and the README)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_DEPLOYMENT_FAILED = 1
EXIT_INVALID = 2
EXIT_TIMEOUT = 3
EXIT_AWS_ERROR = 4
EXIT_INTERNAL_ERROR = 5
EXIT_INTERRUPTED = 130
