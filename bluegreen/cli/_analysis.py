"""``--analysis FILE|default`` for ``deploy`` and ``wait``: the analysis that judges green
against blue from CloudWatch while it serves production traffic (``bluegreen.Analysis``)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bluegreen.errors import ValidationError

if TYPE_CHECKING:
    from bluegreen.analysis import Analysis

DEFAULT = "default"


def add_analysis_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--analysis",
        metavar="FILE|default",
        help="judge green against blue from CloudWatch every minute while it serves "
        "production traffic, through the termination wait, and stop the deployment with "
        "rollback when it fails: a YAML or JSON analysis file, or 'default' (green's 5xx "
        "rate at most blue's + 1 point over 3 minutes, at least 50 requests; one evaluation "
        "over the limit beyond doubt fails it; see docs/analysis.md)",
    )


def analysis_from(args: argparse.Namespace, problems: list[str]) -> Analysis | None:
    """The ``Analysis`` ``--analysis`` names, or None; what is wrong with it goes to
    ``problems``, each naming the option."""
    value = getattr(args, "analysis", None)
    if value is None:
        return None
    from bluegreen.analysis import DEFAULT_ANALYSIS, Analysis

    if value == DEFAULT:
        return DEFAULT_ANALYSIS
    try:
        return Analysis.from_file(value)
    except ValidationError as exc:
        problems += [f"--analysis {value}: {p}" for p in exc.problems]
        return None


def check_analysis(args: argparse.Namespace) -> Analysis | None:
    """``analysis_from``, raising every problem as one ``ValidationError``."""
    problems: list[str] = []
    analysis = analysis_from(args, problems)
    if problems:
        raise ValidationError(problems, subject="command line")
    return analysis
