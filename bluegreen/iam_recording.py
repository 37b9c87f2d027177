"""The IAM action of each AWS call bluegreen makes, learnt from the one door to AWS.

Every call goes through ``bluegreen._aws.Caller`` as ``caller("Operation", client.method,
...)``. While ``recording_actions()`` runs, each call is named ``prefix:Operation``: the
operation is the one botocore sends (``client.meta.method_to_api_mapping``), the prefix the
client's signing name as IAM spells it (``monitoring`` is ``cloudwatch``). A call made through
a closure (``lambda: clients.codedeploy.get_deployment(...)``, as the hook kit's ``aws_call``)
is named from the client the closure holds and the method it calls. The kind of resource a
tagging call names (a service, a task definition) is noted too, so the generator can check
the resource rules grant it.

The generator of ``bluegreen/iam_actions.py`` (``python -m tests.iam_record --write``) records
this way on the simulator; nothing at run time imports this module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from bluegreen._aws import Clients, recording_calls
from bluegreen.iam_resources import ARGUMENT_ACTIONS

__all__ = [
    "IAM_PREFIXES",
    "Recording",
    "UnnamedCallError",
    "action_of",
    "recording_actions",
    "resource_kind",
]

IAM_PREFIXES = {"monitoring": "cloudwatch"}
"""The IAM service prefix of each botocore signing name that differs from it (CloudWatch
signs as ``monitoring``; ELBv2 already signs as ``elasticloadbalancing``)."""


class UnnamedCallError(Exception):
    """A call whose client or operation cannot be told from the function it was given."""


@attrs.define
class Recording:
    """What the calls made inside ``recording_actions()`` need: ``actions`` (with those an
    argument of a call needs, ``ARGUMENT_ACTIONS``); ``targets``, the
    kinds of the resources the tagging calls named (``{"ecs:TagResource": {"service"}}``);
    and ``problems`` (calls that could not be named, or whose label is not what they send)."""

    actions: set[str] = attrs.field(factory=set)
    targets: dict[str, set[str]] = attrs.field(factory=dict)
    problems: list[str] = attrs.field(factory=list)

    def record(
        self, operation: str, function: Callable[..., Any], kwargs: Mapping[str, Any]
    ) -> None:
        try:
            action = action_of(operation, function)
        except UnnamedCallError as exc:
            self.problems.append(str(exc))
            return
        self.actions.add(action)
        for argument, needed in ARGUMENT_ACTIONS.get(action, {}).items():
            if kwargs.get(argument) is not None:
                self.actions.add(needed)
        for name in _ARN_ARGUMENTS:
            kind = resource_kind(kwargs.get(name))
            if kind is not None:
                self.targets.setdefault(action, set()).add(kind)


_ARN_ARGUMENTS = ("resourceArn", "ResourceArn", "ResourceARN")
"""The arguments that name the resource a tagging call acts on (ECS, CodeDeploy, Application
Auto Scaling spell it three ways)."""

_ARN_KINDS = (
    (":service/", "service"),
    (":task-definition/", "task-definition"),
    (":deploymentgroup:", "deployment-group"),
    (":application:", "application"),
    (":scalable-target/", "scalable-target"),
    (":alarm:bluegreen-net-", "net-alarm"),
)


def resource_kind(arn: object) -> str | None:
    """The resource kind (``bluegreen.iam_resources.KINDS``) of an ARN argument, or None."""
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    return next((kind for marker, kind in _ARN_KINDS if marker in arn), None)


@contextlib.contextmanager
def recording_actions() -> Iterator[Recording]:
    """Collect the IAM action of every call any ``Caller`` of this process starts inside the
    block, failed calls included."""
    recording = Recording()
    with recording_calls(recording.record):
        yield recording


def action_of(operation: str, function: Callable[..., Any]) -> str:
    """``prefix:Operation`` for ``Caller()(operation, function)``.

    Raises:
        UnnamedCallError: the client cannot be found, or ``operation`` is not what it sends.
    """
    client, method = _client_and_method(function)
    if client is None or method is None:
        raise UnnamedCallError(
            f"the call labelled {operation!r} ({function!r}) names no boto3 client method: "
            f"pass the bound method, as in caller({operation!r}, client.method_name, **kwargs)"
        )
    sent = client.meta.method_to_api_mapping.get(method)
    if sent != operation:
        raise UnnamedCallError(
            f"the call labelled {operation!r} sends {sent!r} ({method}): label it {sent!r}"
        )
    signing_name = client.meta.service_model.signing_name
    return f"{IAM_PREFIXES.get(signing_name, signing_name)}:{operation}"


def _is_client(value: object) -> bool:
    meta = getattr(value, "meta", None)
    return hasattr(meta, "service_model") and hasattr(meta, "method_to_api_mapping")


def _client_and_method(function: Callable[..., Any]) -> tuple[Any, str | None]:
    owner = getattr(function, "__self__", None)
    if _is_client(owner):
        return owner, getattr(function, "__name__", None)
    code = getattr(function, "__code__", None)
    cells = getattr(function, "__closure__", None) or ()
    if code is None:
        return None, None
    names = set(code.co_names)
    clients: list[Any] = []
    for cell in cells:
        value = cell.cell_contents
        if _is_client(value):
            clients.append(value)
        elif isinstance(value, Clients):
            # ``lambda: aws.codedeploy.get_deployment(...)``: the property it reads.
            clients += [getattr(value, n) for n in sorted(names & _CLIENT_PROPERTIES)]
    found = {
        (id(client), name): (client, name)
        for client in clients
        for name in names
        if name in client.meta.method_to_api_mapping
    }
    if len(found) != 1:
        return None, None
    return next(iter(found.values()))


_CLIENT_PROPERTIES = frozenset({"ecs", "elbv2", "codedeploy", "autoscaling", "cloudwatch"})
