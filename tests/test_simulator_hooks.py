"""Lambda stand-ins (``_hooks``): Lambda ``GetFunction`` for registered hooks, through
boto3 against the simulator (the served equivalent is in ``test_sim_server.py``)."""

from __future__ import annotations

import email.utils
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

HOOK = "CodeDeployHook_check"


ACCOUNT = "123456789012"


# -- 6. the Date header in simulated time ----------------------------------------------


def _date(response: dict[str, Any]) -> float:
    header = response["ResponseMetadata"]["HTTPHeaders"]["date"]
    assert header.endswith(" GMT")
    assert email.utils.format_datetime(email.utils.parsedate_to_datetime(header), True) == header
    return email.utils.parsedate_to_datetime(header).timestamp()


# -- 7. Lambda GetFunction for registered hooks -----------------------------------------


def _lambda(sim: Any) -> Any:
    return sim.clients().session.client("lambda")


def _check_against_the_model(answer: dict[str, Any]) -> None:
    """The answer fits GetFunction's output shape in botocore's lambda model."""
    model = botocore.session.get_session().get_service_model("lambda")
    shape = model.operation_model("GetFunction").output_shape
    validate_parameters({k: v for k, v in answer.items() if k != "ResponseMetadata"}, shape)


def verify(event: dict[str, Any], context: Any) -> None:
    """A hook that does nothing (GetFunction only reads its registration)."""


@pytest.mark.parametrize(
    "function_name",
    [
        HOOK,
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{HOOK}",
        f"{ACCOUNT}:function:{HOOK}",
    ],
    ids=["name", "full-arn", "partial-arn"],
)
def test_get_function_answers_a_registered_hook(sim, function_name):
    sim.register_hook(HOOK, verify, timeout_seconds=30)

    answer = _lambda(sim).get_function(FunctionName=function_name)

    _check_against_the_model(answer)
    config = answer["Configuration"]
    assert config["FunctionName"] == HOOK
    assert config["FunctionArn"] == f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{HOOK}"
    assert config["Runtime"] == "python3.12"
    assert config["Handler"] == "test_simulator_hooks.verify"
    assert config["State"] == "Active"
    assert config["LastUpdateStatus"] == "Successful"
    assert config["Timeout"] == 30
    assert config["Version"] == "$LATEST"
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_get_function_answers_a_hook_registered_by_arn_and_asked_with_a_qualifier(sim):
    sim.register_hook(f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{HOOK}:live", verify)

    answer = _lambda(sim).get_function(FunctionName=HOOK, Qualifier="live")

    _check_against_the_model(answer)
    assert answer["Configuration"]["FunctionArn"].endswith(f":function:{HOOK}:live")


@pytest.mark.parametrize(
    ("function_name", "arn"),
    [
        ("CodeDeployHook_missing", "function:CodeDeployHook_missing"),
        (
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:CodeDeployHook_missing",
            "function:CodeDeployHook_missing",
        ),
        (f"{ACCOUNT}:function:CodeDeployHook_missing", "function:CodeDeployHook_missing"),
    ],
    ids=["name", "full-arn", "partial-arn"],
)
def test_get_function_of_an_unregistered_function_is_not_found(sim, function_name, arn):
    sim.register_hook(HOOK, verify)

    with pytest.raises(ClientError) as caught:
        _lambda(sim).get_function(FunctionName=function_name)

    error = caught.value.response
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:us-east-1:{ACCOUNT}:{arn}"
    )


def test_get_function_is_recorded_and_carries_the_simulated_date(sim):
    sim.register_hook(HOOK, verify)
    sim.advance(7200)

    answer = _lambda(sim).get_function(FunctionName=HOOK)

    assert _date(answer) == int(sim.clock.time())
    assert [c[2] for c in sim.api_calls("lambda")] == ["GetFunction"]
