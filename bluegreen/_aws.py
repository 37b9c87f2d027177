"""The edge between bluegreen and boto3: lazy clients and the one error translation.

No client is built at import time. ``Clients`` makes each boto3 client the first time it is
asked for, from the given ``boto3.Session`` (so its region and profile apply), or uses a
client the caller passed in. ``translate_errors`` is the only place that reads botocore
exceptions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen.errors import (
    AccessDeniedError,
    AWSError,
    ResourceNotFoundError,
    ServiceUnavailableError,
    ThrottledError,
)

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_codedeploy import CodeDeployClient
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client

_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)
_ACCESS_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
_NOT_FOUND_SUFFIXES = ("NotFoundException", "DoesNotExistException", "NotFound")


@attrs.define
class Clients:
    """The boto3 clients bluegreen needs, made lazily from one session.

    Args:
        session: the ``boto3.Session`` to build clients from; its region and profile apply.
            A default session is made on first use when omitted.
        endpoint_url: send every call to this endpoint, e.g. ``bluegreen sim serve``'s.
            boto3's own ``AWS_ENDPOINT_URL`` environment variable works too.
        config: a ``botocore.config.Config`` for every client (retries, timeouts).
        ecs, elbv2, codedeploy, autoscaling, cloudwatch: ready clients that take precedence.
    """

    session: boto3.Session | None = None
    endpoint_url: str | None = None
    config: Config | None = None
    _ecs: ECSClient | None = attrs.field(default=None, alias="ecs")
    _elbv2: ElasticLoadBalancingv2Client | None = attrs.field(default=None, alias="elbv2")
    _codedeploy: CodeDeployClient | None = attrs.field(default=None, alias="codedeploy")
    _autoscaling: ApplicationAutoScalingClient | None = attrs.field(
        default=None, alias="autoscaling"
    )
    _cloudwatch: CloudWatchClient | None = attrs.field(default=None, alias="cloudwatch")

    def _session(self) -> boto3.Session:
        if self.session is None:
            import boto3

            self.session = boto3.Session()
        return self.session

    @property
    def region(self) -> str | None:
        """The session's region."""
        return self._session().region_name

    def client(self, service: str) -> Any:
        """Any other boto3 client, made with the same session, endpoint and config."""
        kwargs: dict[str, Any] = {}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        if self.config is not None:
            kwargs["config"] = self.config
        return self._session().client(service, **kwargs)  # type: ignore[call-overload]

    @property
    def ecs(self) -> ECSClient:
        if self._ecs is None:
            self._ecs = self.client("ecs")
        return self._ecs

    @property
    def elbv2(self) -> ElasticLoadBalancingv2Client:
        if self._elbv2 is None:
            self._elbv2 = self.client("elbv2")
        return self._elbv2

    @property
    def codedeploy(self) -> CodeDeployClient:
        if self._codedeploy is None:
            self._codedeploy = self.client("codedeploy")
        return self._codedeploy

    @property
    def autoscaling(self) -> ApplicationAutoScalingClient:
        if self._autoscaling is None:
            self._autoscaling = self.client("application-autoscaling")
        return self._autoscaling

    @property
    def cloudwatch(self) -> CloudWatchClient:
        if self._cloudwatch is None:
            self._cloudwatch = self.client("cloudwatch")
        return self._cloudwatch


def resolve_clients(
    clients: Clients | None = None,
    session: boto3.Session | None = None,
    endpoint_url: str | None = None,
) -> Clients:
    """The ``Clients`` for a public entry point's ``clients=`` / ``session=`` arguments."""
    if clients is not None:
        if session is not None or endpoint_url is not None:
            raise TypeError("pass either clients= or session=/endpoint_url=, not both")
        return clients
    return Clients(session=session, endpoint_url=endpoint_url)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a translated bluegreen error, or None."""
    return exc.code if isinstance(exc, AWSError) else None


def _from_client_error(exc: Any, operation: str | None) -> AWSError:
    response = getattr(exc, "response", {}) or {}
    error = response.get("Error", {}) or {}
    meta = response.get("ResponseMetadata", {}) or {}
    code = str(error.get("Code") or "") or None
    message = str(error.get("Message") or "") or str(exc)
    request_id = meta.get("RequestId")
    status = meta.get("HTTPStatusCode")
    op = getattr(exc, "operation_name", None) or operation
    kind: type[AWSError] = AWSError
    if code in _THROTTLING_CODES:
        kind = ThrottledError
    elif code in _ACCESS_CODES:
        kind = AccessDeniedError
    elif code and code.endswith(_NOT_FOUND_SUFFIXES):
        kind = ResourceNotFoundError
    elif isinstance(status, int) and status >= 500:
        kind = ServiceUnavailableError
    return kind(message, operation=op, code=code, request_id=request_id, status_code=status)


@contextlib.contextmanager
def translate_errors(operation: str | None = None) -> Iterator[None]:
    """Turn botocore exceptions raised inside the block into bluegreen ``AWSError``s.

    Args:
        operation: the AWS operation being called, used when botocore does not say.
    """
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ReadTimeoutError,
    )

    try:
        yield
    except ClientError as exc:
        raise _from_client_error(exc, operation) from exc
    except (
        EndpointConnectionError,
        ConnectionClosedError,
        ConnectTimeoutError,
        ReadTimeoutError,
    ) as exc:
        raise ServiceUnavailableError(
            str(exc), operation=operation, code="ConnectionError"
        ) from exc
    except NoCredentialsError as exc:
        raise AccessDeniedError(
            "no AWS credentials found: set AWS_PROFILE or pass session=boto3.Session(...)",
            operation=operation,
            code="NoCredentials",
        ) from exc
    except NoRegionError as exc:
        raise AccessDeniedError(
            "no AWS region set: set AWS_REGION or pass session=boto3.Session(region_name=...)",
            operation=operation,
            code="NoRegion",
        ) from exc
