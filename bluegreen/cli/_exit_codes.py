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
EXIT_BROKEN_PIPE = 141
"""Whoever read the output went away (``bluegreen status | head -1``), as a shell reports
a process that SIGPIPE ended (128 + 13); nothing more is printed."""
