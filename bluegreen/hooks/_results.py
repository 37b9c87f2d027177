"""What a hook's checks found and how the kit logs it: ``CheckResult``, the one JSON line per
event on the ``bluegreen.hooks`` logger, and the masking that keeps secrets out of those lines.
"""

from __future__ import annotations

import json
import logging
import os
import re
import traceback
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

from bluegreen.errors import ValidationError

__all__ = [
    "CheckResult",
    "HookResult",
    "describe_exception",
    "format_traceback",
    "log",
    "logger",
    "mask_headers",
    "mask_url",
    "render",
    "type_name",
]

logger = logging.getLogger("bluegreen.hooks")

LOG_LEVEL_VARIABLE = "BLUEGREEN_LOG_LEVEL"

_MASK = "***"
_SECRET_NAME = re.compile(
    r"authorization|cookie|api[-_]?key|token|secret|password|passwd|session|signature|credential",
    re.IGNORECASE,
)


@attrs.frozen
class CheckResult:
    """What one check tried, what came back and how long it took.

    Attributes:
        name: the check, e.g. ``http`` or ``latency``.
        ok: whether it passed.
        tried: what was tried, e.g. ``GET https://lb.example.com:8080/health``.
        got: what came back, e.g. ``200 OK; body '{"status": "ok"}'``, or why it failed.
        elapsed_ms: how long the check took, in milliseconds.
        details: anything else worth logging (problems found, counts, percentiles).

    Raises:
        ValidationError: on construction, a field of the wrong type (every one named).
    """

    name: str
    ok: bool
    tried: str
    got: str
    elapsed_ms: float
    details: Mapping[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        problems = [
            f"CheckResult {field} must be a string, got {type(value).__name__}"
            for field, value in (("name", self.name), ("tried", self.tried), ("got", self.got))
            if not isinstance(value, str)
        ]
        if not isinstance(self.ok, bool):
            problems.append(f"CheckResult ok must be True or False, got {type(self.ok).__name__}")
        elapsed = self.elapsed_ms
        if isinstance(elapsed, bool) or not isinstance(elapsed, int | float) or elapsed < 0:
            problems.append(
                "CheckResult elapsed_ms must be a number of milliseconds, 0 or more, got "
                f"{type(elapsed).__name__}"
            )
        if not isinstance(self.details, Mapping):
            problems.append(
                f"CheckResult details must be a mapping, got {type(self.details).__name__}"
            )
        if problems:
            raise ValidationError(problems, subject="check result")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the result."""
        return {
            "name": self.name,
            "ok": self.ok,
            "tried": self.tried,
            "got": self.got,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "details": dict(self.details),
        }


HookResult: TypeAlias = bool | CheckResult | Iterable[CheckResult] | None
"""What a check function may return: None or True (passed), False, or check results."""


def mask_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """``headers`` with the values of secret-looking ones (Authorization, Cookie, X-Api-Key,
    anything naming a token, secret or password) replaced by ``***``."""
    return {
        name: (_MASK if _SECRET_NAME.search(name) else value)
        for name, value in (headers or {}).items()
    }


def mask_url(url: str) -> str:
    """``url`` without a password in its user info or secret-looking query parameters."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{_MASK}@{host}" if ":" in userinfo else f"{user}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, _MASK if _SECRET_NAME.search(k) else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def log(level: int, payload: Mapping[str, Any]) -> None:
    """Log ``payload`` as one JSON line on the ``bluegreen.hooks`` logger; never raises, so a
    value that cannot be rendered cannot stop a report."""
    try:
        line = json.dumps(payload, default=render, sort_keys=False)
    except Exception:  # a circular value, keys that are not strings: render each value
        line = json.dumps({render(k): render(v) for k, v in payload.items()})
    logger.log(level, line)


def render(value: object) -> str:
    """``str(value)``, or, when its ``__str__`` raises, a sentence naming its type."""
    try:
        return str(value)
    except BaseException as failure:  # what a broken __str__ raises is no reason to stop
        return f"<{type_name(value)} whose __str__ raised {type_name(failure)}>"


def type_name(value: object) -> str:
    """The name of ``value``'s type, whatever the type does."""
    try:
        return str(type(value).__name__)
    except BaseException:
        return "object"


def describe_exception(exc: BaseException, limit: int = 500) -> str:
    """``RuntimeError: green is on fire``, cut to ``limit`` characters; when the exception
    cannot be turned into a string, its type and that its message could not be rendered."""
    kind = type_name(exc)
    try:
        message = str(exc)
    except BaseException as failure:
        return f"{kind} (its message could not be rendered: {type_name(failure)} in __str__)"
    if len(message) > limit:
        message = f"{message[:limit]}... ({len(message)} characters)"
    return f"{kind}: {message}" if message else kind


def format_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` as text, or a note that it could not be formatted."""
    try:
        return "".join(traceback.format_exception(exc))
    except BaseException as failure:
        return f"(the traceback could not be formatted: {type_name(failure)})"


def ensure_log_level() -> None:
    """Log check results at INFO unless told otherwise (``BLUEGREEN_LOG_LEVEL``): Lambda's
    root logger stops at WARNING."""
    if logger.level == logging.NOTSET:
        name = os.environ.get(LOG_LEVEL_VARIABLE, "INFO").strip().upper()
        logger.setLevel(logging.getLevelNamesMapping().get(name, logging.INFO))
