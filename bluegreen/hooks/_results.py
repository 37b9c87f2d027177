"""What a hook's checks found and how the kit logs it: ``CheckResult``, the one JSON line per
event on the ``bluegreen.hooks`` logger, and the masking that keeps secrets out of those lines.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import attrs

__all__ = ["CheckResult", "HookResult", "log", "logger", "mask_headers", "mask_url"]

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
    """

    name: str
    ok: bool
    tried: str
    got: str
    elapsed_ms: float
    details: Mapping[str, Any] = attrs.field(factory=dict)

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
    """Log ``payload`` as one JSON line on the ``bluegreen.hooks`` logger."""
    logger.log(level, json.dumps(payload, default=str, sort_keys=False))


def ensure_log_level() -> None:
    """Log check results at INFO unless told otherwise (``BLUEGREEN_LOG_LEVEL``): Lambda's
    root logger stops at WARNING."""
    if logger.level == logging.NOTSET:
        name = os.environ.get(LOG_LEVEL_VARIABLE, "INFO").strip().upper()
        logger.setLevel(logging.getLevelNamesMapping().get(name, logging.INFO))
