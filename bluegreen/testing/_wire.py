"""The awsJson1.1 wire format shared by the simulated services."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import uuid
from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    """An AWS error answer: ``{"__type": code, "message": ...}`` with an HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


Response = tuple[int, dict[str, str], str | bytes]


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    raise TypeError(f"cannot encode {type(value).__name__}")


def ok(payload: dict[str, Any]) -> Response:
    return (200, _headers(), json.dumps(payload, default=_default))


def error(exc: ApiError) -> Response:
    body = json.dumps({"__type": exc.code, "message": exc.message})
    headers = _headers()
    headers["x-amzn-ErrorType"] = exc.code
    return (exc.status, headers, body)


def _headers() -> dict[str, str]:
    return {
        "Content-Type": "application/x-amz-json-1.1",
        "x-amzn-RequestId": str(uuid.uuid4()),
    }


def http_date(seconds: float) -> str:
    """An HTTP ``Date`` value (RFC 7231 IMF-fixdate, ``Wed, 02 Dec 2026 06:00:00 GMT``) for
    ``seconds`` since the epoch: the simulator stamps its responses with its own clock."""
    return email.utils.formatdate(seconds, usegmt=True)


def require(body: Mapping[str, Any], key: str, code: str, message: str | None = None) -> Any:
    value = body.get(key)
    if value in (None, "", []):
        raise ApiError(code, message or f"{key} is required")
    return value


def page(
    items: list[Any], body: Mapping[str, Any], size: int = 100
) -> tuple[list[Any], str | None]:
    """One page of a List call's ``items`` from ``body``'s ``nextToken``, and the next token."""
    start = int(body.get("nextToken") or 0)
    chunk = items[start : start + size]
    token = str(start + size) if start + size < len(items) else None
    return chunk, token
