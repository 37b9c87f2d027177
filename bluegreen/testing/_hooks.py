"""Python callables standing in for the Lambda functions of AppSpec hooks: the registry,
the invocation (event, context, thread or clock), and Lambda's GetFunction for them."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import traceback
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from bluegreen.testing._clock import Clock, VirtualClock
from bluegreen.testing._records import HookExecution
from bluegreen.testing._settings import ACCOUNT_ID
from bluegreen.testing._wire import Response

__all__ = ["HookFunction", "Hooks", "LambdaContext", "function_name", "json_response"]

_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:(?P<name>[^:]+)(?::(?P<q>.+))?$"
)
# GetFunction's FunctionName: a name, a partial ARN or a full ARN, each with an optional
# qualifier (the pattern of botocore's lambda model).
_FUNCTION_NAME = re.compile(
    r"^(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):)?(?:(?P<account>\d{12}):)?"
    r"(?:function:)?(?P<name>[a-zA-Z0-9_.-]+)(?::(?P<q>\$LATEST|[a-zA-Z0-9_-]+))?$"
)
_GET_FUNCTION_PATH = re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/?$")


@attrs.define
class LambdaContext:
    """What a Lambda handler receives as ``context``; remaining time follows the sim clock."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    deadline: float
    clock: Clock = attrs.field(repr=False)
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - self.clock.time()) * 1000))


@attrs.frozen
class HookFunction:
    """A Python callable standing in for a Lambda function."""

    name: str
    function: Callable[[dict[str, Any], LambdaContext], Any]
    timeout_seconds: float = 60.0
    registered_at: float = 0.0


@attrs.define(eq=False)
class Hooks:
    """The hooks registered with a simulator, by function name."""

    clock: Clock
    lock: threading.RLock
    region: str
    registered: dict[str, HookFunction] = attrs.Factory(dict)

    def register(
        self,
        name: str,
        function: Callable[[dict[str, Any], LambdaContext], Any],
        *,
        timeout_seconds: float = 60.0,
    ) -> None:
        """Stand ``function`` in for the Lambda function ``name`` (a name or an ARN)."""
        key = function_name(name)
        self.registered[key] = HookFunction(key, function, timeout_seconds, self.clock.time())

    def get(self, name_or_arn: str) -> HookFunction | None:
        return self.registered.get(function_name(name_or_arn))

    def invoke(self, hook: HookFunction, deployment_id: str, execution: HookExecution) -> None:
        """Call ``hook`` as CodeDeploy invokes a Lambda: inline on the virtual clock, on its
        own thread on the real-time clock. One that raises reports nothing (as a crashed
        Lambda); its traceback becomes the execution's log tail."""
        event = {
            "DeploymentId": deployment_id,
            "LifecycleEventHookExecutionId": execution.id,
        }
        context = LambdaContext(
            function_name=hook.name,
            invoked_function_arn=f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{hook.name}",
            aws_request_id=str(uuid.uuid4()),
            deadline=self.clock.time() + hook.timeout_seconds,
            clock=self.clock,
            log_group_name=f"/aws/lambda/{hook.name}",
        )

        def call() -> None:
            try:
                hook.function(event, context)
            except Exception as exc:
                with self.lock:
                    execution.log_tail = "".join(traceback.format_exception(exc))[-4096:]

        if isinstance(self.clock, VirtualClock):
            self.clock.call_later(0, call)
        else:
            threading.Thread(target=call, name=f"hook-{hook.name}", daemon=True).start()

    # -- Lambda GetFunction -------------------------------------------------------------

    def get_function(
        self, function: str, target: str, *, in_moto: Callable[[str], bool]
    ) -> Response | None:
        """Lambda GetFunction for a registered hook; None (moto answers) for a function
        ``in_moto``; ResourceNotFoundException for anything else."""
        match = _FUNCTION_NAME.match(function)
        if match is None or match.group("region") not in (None, self.region):
            return None
        if match.group("account") not in (None, ACCOUNT_ID):
            return None
        name = match.group("name")
        hook = self.registered.get(name)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
        qualifier: str | None = match.group("q") or next(iter(query.get("Qualifier") or ()), None)
        if hook is not None:
            configuration = self.configuration(hook, qualifier)
            return json_response(200, {"Configuration": configuration})
        if in_moto(name):
            return None  # a function created in moto: moto answers
        arn = f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
        message = f"Function not found: {arn}" + (f":{qualifier}" if qualifier else "")
        answer = json_response(404, {"Type": "User", "Message": message})
        answer[1]["x-amzn-ErrorType"] = "ResourceNotFoundException"
        return answer

    def configuration(self, hook: HookFunction, qualifier: str | None) -> dict[str, Any]:
        """A ``FunctionConfiguration`` (botocore's lambda model) for a registered hook."""
        arn = f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{hook.name}"
        module = getattr(hook.function, "__module__", None) or "hook"
        handler = getattr(hook.function, "__name__", None) or "handler"
        modified = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime(hook.registered_at))
        return {
            "FunctionName": hook.name,
            "FunctionArn": f"{arn}:{qualifier}" if qualifier else arn,
            "Runtime": "python3.12",
            "Role": f"arn:aws:iam::{ACCOUNT_ID}:role/{hook.name}-role",
            "Handler": f"{module.rsplit('.', 1)[-1]}.{handler}",
            "CodeSize": 0,
            "Description": "a Python callable standing in for this function (bluegreen simulator)",
            "Timeout": max(1, int(hook.timeout_seconds)),
            "MemorySize": 128,
            "LastModified": modified,
            "CodeSha256": _base64_sha256(f"{module}:{handler}"),
            "Version": qualifier if qualifier and qualifier.isdigit() else "$LATEST",
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{arn}:{hook.registered_at}")),
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": ["x86_64"],
            "EphemeralStorage": {"Size": 512},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{hook.name}"},
        }


def lambda_operation(method: str, target: str) -> tuple[str, str | None]:
    """(operation, function name) of a Lambda REST request; only GetFunction is told apart."""
    path = urllib.parse.urlsplit(target).path
    match = _GET_FUNCTION_PATH.match(path)
    if method.upper() == "GET" and match is not None:
        return "GetFunction", urllib.parse.unquote(match.group("function"))
    return "", None


def json_response(status: int, payload: Mapping[str, Any]) -> Response:
    return (
        status,
        {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())},
        json.dumps(payload),
    )


def _base64_sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def function_name(name_or_arn: str) -> str:
    """The function name of a name or a (qualified) Lambda ARN."""
    match = _LAMBDA_ARN.match(name_or_arn)
    return match.group("name") if match else name_or_arn
