"""GetMetricData in pages, as CloudWatch answers it: at most ``MaxDatapoints`` datapoints a
page (100,800 unless the request says), the rest behind a ``NextToken``; a token that does not
belong to the request is CloudWatch's ``InvalidNextToken`` error.

moto answers every datapoint at once and ignores both parameters. ``answer`` hands the request
to a subclass of moto's ``CloudWatchResponse`` (never moto's class itself): moto still parses
and checks the request, the backend answers it (``_metric_queries``) and moto serialises the
page in whatever protocol the client speaks. Every page lists every query; a result whose
datapoints go on in a later page is ``PartialData``, the others ``Complete``.

``Faults.metric_data`` makes CloudWatch page sooner than ``MaxDatapoints`` (it may) or mark
every result with a status such as ``InternalError``, for tests of a reader's handling.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult

from bluegreen.testing._wire import Response

__all__ = ["DEFAULT_MAX_DATAPOINTS", "answer"]

DEFAULT_MAX_DATAPOINTS = 100_800


class _InvalidNextToken(ServiceException):
    code = "InvalidNextToken"
    message = "The next token specified is invalid."


class _InvalidParameterValue(ServiceException):
    code = "InvalidParameterValue"


def _fingerprint(params: Any) -> str:
    """What a token belongs to: the queries, the window and the order (not MaxDatapoints,
    which a caller may change between pages)."""
    keys = ("MetricDataQueries", "StartTime", "EndTime", "ScanBy", "LabelOptions")
    text = json.dumps({k: params.get(k) for k in keys}, default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _token(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"offset": offset, "request": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _offset(token: str, fingerprint: str, total: int) -> int:
    try:
        parsed = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(parsed["offset"])
        valid = parsed["request"] == fingerprint and 0 < offset < total
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        valid = False
    if not valid:
        raise _InvalidNextToken()
    return offset


class _PagedResponse(CloudWatchResponse):
    """moto's CloudWatch answers with GetMetricData in pages."""

    page_size: int | None = None
    status: str | None = None

    def get_metric_data(self) -> ActionResult:
        params = self._get_params()
        limit = params.get("MaxDatapoints")
        limit = DEFAULT_MAX_DATAPOINTS if limit is None else int(limit)
        if limit < 1:
            raise _InvalidParameterValue(f"MaxDatapoints must be at least 1, not {limit}.")
        if self.page_size is not None:
            limit = min(limit, self.page_size)
        full = super().get_metric_data().result
        results: list[dict[str, Any]] = full["MetricDataResults"]  # type: ignore[index]
        total = sum(len(r["values"]) for r in results)
        fingerprint = _fingerprint(params)
        token = params.get("NextToken")
        start = _offset(str(token), fingerprint, total) if token else 0
        end = min(start + limit, total)
        page = []
        seen = 0
        for result in results:
            count = len(result["values"])
            lo, hi = max(start - seen, 0), max(min(end - seen, count), 0)
            own = result.get("status_code") or "Complete"
            more = own == "Complete" and seen + count > end
            item = dict(
                result,
                values=result["values"][lo:hi],
                timestamps=result["timestamps"][lo:hi],
                status_code=self.status or ("PartialData" if more else own),
            )
            if self.status:
                item["messages"] = [{"Code": self.status, "Value": f"{self.status} (simulated)"}]
            page.append(item)
            seen += count
        answer: dict[str, Any] = {"MetricDataResults": page}
        if end < total:
            answer["NextToken"] = _token(end, fingerprint)
        return ActionResult(answer)


def answer(
    headers: Any,
    body: bytes | str | None,
    *,
    method: str,
    url: str,
    page_size: int | None,
    status: str | None,
) -> Response:
    """moto's answer to a CloudWatch GetMetricData request, one page of it.

    Args:
        url: the request's URL on CloudWatch's endpoint (moto reads the region from it).
        page_size: at most this many datapoints a page, whatever ``MaxDatapoints`` says.
        status: every result's ``StatusCode`` instead of the real one (with a message).
    """
    from moto.core.request import Request

    request = Request.from_primitives(method or "POST", url, headers, body)
    response = _PagedResponse()
    response.page_size, response.status = page_size, status
    code, answer_headers, answer_body = response._dispatch(
        request, request.raw_url, request.headers
    )
    plain = {str(k): str(v) for k, v in answer_headers.items() if str(k).lower() != "status"}
    return (int(code), plain, answer_body)
