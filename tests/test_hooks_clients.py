"""bluegreen.hooks._clients: the hooks' module-level clients and their AWS calls, made by
bluegreen._aws.Caller (no budget, fixed short pauses, one aws_retry line per retry)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from bluegreen import AccessDeniedError, ServiceUnavailableError, ThrottledError
from bluegreen.hooks import _clients
from bluegreen.hooks._clients import RETRY_DELAYS, aws_call, caller, default_clients


@pytest.fixture(autouse=True)
def _no_clients_left_behind(monkeypatch):
    """Each test starts and ends without module-level clients, and any it makes point at a
    closed local port: a client made here must never serve a later test (or reach AWS)."""
    monkeypatch.setattr(_clients, "_DEFAULT", None)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("BLUEGREEN_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1")


def test_default_clients_are_made_once_and_kept_for_warm_invocations(monkeypatch):
    first = default_clients()
    assert default_clients() is first
    assert first.codedeploy is first.codedeploy
    assert first.region == "us-east-1"

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    moved = default_clients()
    assert moved is not first
    assert moved.codedeploy.meta.endpoint_url == "http://127.0.0.1:4566"

    monkeypatch.setenv("BLUEGREEN_ENDPOINT_URL", "http://127.0.0.1:5055")
    assert default_clients().codedeploy.meta.endpoint_url == "http://127.0.0.1:5055"


class Flaky:
    """A call that fails with the given errors, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> dict[str, str]:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return {"ok": "yes"}


def throttled() -> ThrottledError:
    return ThrottledError("slow down", operation="Op", code="ThrottlingException")


def unavailable() -> ServiceUnavailableError:
    return ServiceUnavailableError("oops", operation="Op", code="InternalFailure")


def test_throttling_and_5xx_are_retried_after_the_fixed_delays_and_logged(caplog):
    caplog.set_level(logging.INFO, logger="bluegreen.hooks")
    call = Flaky(throttled(), unavailable())
    slept: list[float] = []

    assert aws_call("Op", call, delays=(0.5, 1.0, 2.0), sleep=slept.append) == {"ok": "yes"}

    assert call.calls == 3
    assert slept == [0.5, 1.0]
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "bluegreen.hooks"]
    assert [(line["event"], line["operation"], line["delay"]) for line in lines] == [
        ("aws_retry", "Op", 0.5),
        ("aws_retry", "Op", 1.0),
    ]
    assert lines[0]["error"] == "Op: ThrottlingException: slow down"


def test_the_last_error_is_raised_once_the_delays_are_used_up():
    call = Flaky(throttled(), throttled(), throttled())
    slept: list[float] = []

    with pytest.raises(ThrottledError):
        aws_call("Op", call, delays=(0.1, 0.2), sleep=slept.append)

    assert call.calls == 3
    assert slept == [0.1, 0.2]


def test_no_delays_means_one_attempt():
    call = Flaky(throttled())

    with pytest.raises(ThrottledError):
        aws_call("Op", call, delays=(), sleep=lambda s: None)

    assert call.calls == 1


def test_other_errors_are_raised_at_once():
    call = Flaky(AccessDeniedError("no", operation="Op", code="AccessDeniedException"))

    with pytest.raises(AccessDeniedError):
        aws_call("Op", call, sleep=lambda s: pytest.fail("slept"))

    assert call.calls == 1


def test_botocore_errors_are_translated():
    from botocore.exceptions import ClientError

    def denied() -> None:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "GetDeployment"
        )

    with pytest.raises(AccessDeniedError) as raised:
        aws_call("GetDeployment", denied)

    assert raised.value.operation == "GetDeployment"


def test_the_hooks_caller_has_no_budget_and_counts_its_calls():
    made = caller(sleep=lambda s: None)
    call = Flaky(throttled())

    made("GetDeployment", call)

    assert made.budget is None
    assert made.delays == RETRY_DELAYS
    assert made.attempts == len(RETRY_DELAYS) + 1
    assert made.counts == {"GetDeployment": 2}


def test_default_clients_turn_botocores_retries_off():
    config = default_clients().codedeploy.meta.config

    assert config.retries["total_max_attempts"] == 1
    assert (config.connect_timeout, config.read_timeout) == (3, 5)


def test_a_call_that_succeeds_never_imports_tenacity():
    code = (
        "import sys\n"
        "from bluegreen.hooks._clients import aws_call\n"
        "assert aws_call('Op', lambda: 1) == 1\n"
        "print('tenacity' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
