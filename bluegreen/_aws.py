"""The one door between bluegreen and AWS: lazy clients, the calls, the one error translation.

- ``Clients`` makes each boto3 client the first time it is asked for, from the given
  ``boto3.Session`` (so its region and profile apply), or uses a client the caller passed
  in. No client is built at import time.
- ``Caller`` makes every call: it draws from the shared ``RateBudget``, counts the call per
  operation, translates botocore's errors, hands each answer to an observer (the server
  clock), and retries only what is safe to retry (throttling, 5xx, a reset connection) on
  the injected clock. Its counts say which AWS actions a feature used, and while
  ``recording_calls`` runs it hands every call to a recorder (``bluegreen.iam_recording``
  names the IAM action of each, to generate least-privilege policies).
- ``translate`` / ``translate_errors`` are the only places that read botocore exceptions.

Importing this module imports neither boto3 nor tenacity: a Lambda hook pays for tenacity
only when a call must be retried.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from bluegreen._advice import advice
from bluegreen.clock import DEFAULT_BUDGET, Clock, MonotonicClock, RateBudget
from bluegreen.errors import (
    AccessDeniedError,
    AWSError,
    BlueGreenError,
    ConfigurationError,
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
        config: a ``botocore.config.Config`` for every client (timeouts, proxies). Its
            retries are replaced: bluegreen's ``Caller`` retries every call itself.
        ecs, elbv2, codedeploy, autoscaling, cloudwatch: ready clients that take precedence,
            used as they are (their own botocore retries then add to bluegreen's).
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
    _lock: threading.RLock = attrs.field(factory=threading.RLock, init=False, repr=False, eq=False)
    """boto3 sessions are not safe for threads: the threads of a release that share these
    clients make them one at a time."""

    def _session(self) -> boto3.Session:
        with self._lock:
            if self.session is None:
                import boto3

                with translate_errors():
                    self.session = boto3.Session()
            return self.session

    @property
    def region(self) -> str | None:
        """The session's region."""
        with translate_errors():
            return self._session().region_name

    def client(self, service: str) -> Any:
        """Any other boto3 client, made with the same session, endpoint and config.

        Raises:
            ConfigurationError: no region, an invalid region name or endpoint URL, or an
                unknown profile.
        """
        from botocore.config import Config

        kwargs: dict[str, Any] = {}
        if self.endpoint_url:
            check_endpoint_url(self.endpoint_url)
            kwargs["endpoint_url"] = self.endpoint_url
        # bluegreen's Caller retries, on the injected clock and after looking when a retry
        # could repeat a change; botocore's own retries (real sleeps, blind) stay off.
        single = Config(retries={"total_max_attempts": 1})
        kwargs["config"] = self.config.merge(single) if self.config is not None else single
        with self._lock, translate_errors():
            return self._session().client(service, **kwargs)  # type: ignore[call-overload]

    @property
    def ecs(self) -> ECSClient:
        with self._lock:
            if self._ecs is None:
                self._ecs = self.client("ecs")
        return self._ecs

    @property
    def elbv2(self) -> ElasticLoadBalancingv2Client:
        with self._lock:
            if self._elbv2 is None:
                self._elbv2 = self.client("elbv2")
        return self._elbv2

    @property
    def codedeploy(self) -> CodeDeployClient:
        with self._lock:
            if self._codedeploy is None:
                self._codedeploy = self.client("codedeploy")
        return self._codedeploy

    @property
    def autoscaling(self) -> ApplicationAutoScalingClient:
        with self._lock:
            if self._autoscaling is None:
                self._autoscaling = self.client("application-autoscaling")
        return self._autoscaling

    @property
    def cloudwatch(self) -> CloudWatchClient:
        with self._lock:
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


def check_endpoint_url(url: str) -> None:
    """Raise ``ConfigurationError`` unless ``url`` is an ``http(s)://host[:port][/path]`` URL,
    before botocore's own ``ValueError`` (or a call to a host nobody meant) can happen."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        valid = valid and (parts.port is None or parts.port > 0)  # a bad port raises
    except ValueError:
        valid = False
    if not valid:
        raise ConfigurationError(
            f"the endpoint URL {url!r} is not an http(s) URL",
            advice(
                "pass endpoint_url='http://HOST:PORT', e.g. 'http://127.0.0.1:5055'",
                "give --endpoint-url http://HOST:PORT, e.g. the URL `bluegreen sim serve` prints",
            ),
        )


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
    """Turn botocore exceptions raised inside the block into bluegreen errors
    (``translate``).

    Args:
        operation: the AWS operation being called, used when botocore does not say.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise translate(exc, operation) from exc
    except ValueError as exc:
        if str(exc).startswith("Invalid endpoint"):  # botocore's check of endpoint_url
            raise translate(exc, operation) from exc
        raise


def translate(exc: BaseException, operation: str | None = None) -> BlueGreenError:
    """The bluegreen error for a botocore exception: ``AWSError`` and its kinds for AWS's
    answers and for a network that failed, ``ConfigurationError`` for this machine's set-up.
    The one place that reads botocore exceptions."""
    from botocore import exceptions as b

    if isinstance(exc, b.ClientError):
        return _from_client_error(exc, operation)
    if isinstance(exc, b.NoRegionError):
        return ConfigurationError(
            "no AWS region is set",
            advice(
                "set AWS_DEFAULT_REGION or pass session=boto3.Session(region_name=...)",
                "give --region, or set AWS_REGION or AWS_DEFAULT_REGION",
            ),
        )
    if isinstance(exc, b.InvalidRegionError):
        return ConfigurationError(
            f"{exc}",
            advice(
                "pass a region name such as 'us-east-1'",
                "give --region with a region name such as us-east-1",
            ),
        )
    if isinstance(exc, b.ProfileNotFound):
        return ConfigurationError(
            str(exc),
            advice(
                "pass the name of a profile in ~/.aws/config, or no profile",
                "give --profile with a profile in ~/.aws/config, or unset AWS_PROFILE",
            ),
        )
    if isinstance(exc, b.NoCredentialsError | b.PartialCredentialsError):
        return ConfigurationError(
            "no AWS credentials found" if isinstance(exc, b.NoCredentialsError) else str(exc),
            advice(
                "set AWS_PROFILE or pass session=boto3.Session(profile_name=...)",
                "give --profile, set AWS_PROFILE, or set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY",
            ),
        )
    if isinstance(exc, b.CredentialRetrievalError | b.TokenRetrievalError | b.SSOError):
        return ConfigurationError(
            f"the AWS credentials could not be loaded ({exc})",
            advice(
                "refresh them (e.g. `aws sso login`) and retry",
                "refresh them (e.g. `aws sso login`) and run the command again",
            ),
        )
    if isinstance(exc, ValueError):  # botocore's "Invalid endpoint: ..."
        return ConfigurationError(
            str(exc),
            advice("pass endpoint_url='http://HOST:PORT'", "give --endpoint-url http://HOST:PORT"),
        )
    if isinstance(exc, b.EndpointConnectionError):
        return ServiceUnavailableError(
            f"{exc}: check the endpoint URL, the region and the network",
            operation=operation,
            code=UNREACHABLE,
        )
    if isinstance(exc, b.HTTPClientError | b.ConnectionError):
        # A reset, a closed connection, a proxy or read/connect timeout: the network was
        # interrupted after botocore's own retries.
        return ServiceUnavailableError(
            f"the network failed: {exc}", operation=operation, code="ConnectionError"
        )
    return AWSError(f"{type(exc).__name__}: {exc}", operation=operation, code=None)


# -- calls ------------------------------------------------------------------------------------

_T = TypeVar("_T")

UNREACHABLE = "EndpointConnectionError"
"""The code of a call that never reached the endpoint (refused, no route, no DNS answer)."""

UNREACHABLE_ATTEMPTS = 3
"""Attempts at most while the endpoint cannot be reached at all: a wrong endpoint or region
should say so in seconds, not after the two minutes a throttled call may retry for."""

RETRYABLE: tuple[type[AWSError], ...] = (ThrottledError, ServiceUnavailableError)
"""What a call retries by default: throttling, 5xx and a connection that failed. A call whose
effect may have happened despite the error (CreateDeployment) passes its own ``retry_if``."""


Recorder = Callable[[str, Callable[..., Any], Mapping[str, Any]], None]
"""``recorder(operation, function, kwargs)``: what ``recording_calls`` hands each call."""

_RECORDERS: list[Recorder] = []


@contextlib.contextmanager
def recording_calls(recorder: Recorder) -> Iterator[None]:
    """Hand ``recorder(operation, function, kwargs)`` every call any ``Caller`` of this process
    starts while the block runs (once per call, before its first attempt, so calls that fail
    count too). ``bluegreen.iam_recording`` learns the IAM actions a feature needs this way. A
    recorder must not raise. Outside such a block a call pays one test of an empty list."""
    _RECORDERS.append(recorder)
    try:
        yield
    finally:
        _RECORDERS.remove(recorder)


@attrs.define(eq=False)
class Caller:
    """Makes bluegreen's AWS calls, every one the same way.

    Each attempt first takes a token from ``budget`` (when there is one), is counted in
    ``counts`` under its operation, runs inside ``translate_errors`` and hands its answer to
    ``on_answer`` (the server clock reads the ``Date`` header there). A failed attempt is
    retried, after a pause on ``clock``, while ``retry_if`` accepts the error and neither
    ``attempts`` nor ``patience`` (seconds on ``clock``) is spent. The pauses grow
    exponentially with jitter (1 s to 20 s), or follow ``delays`` when given. An endpoint that
    cannot be reached at all is tried ``UNREACHABLE_ATTEMPTS`` times at most.

    Args:
        clock: where pauses sleep and ``patience`` is measured.
        budget: the token bucket shared by the process (``DEFAULT_BUDGET``); None: no pacing.
        attempts: attempts at most, the first included.
        patience: seconds after the first attempt that no new attempt starts.
        delays: fixed pauses between attempts (their number then caps the retries).
        on_answer: called with every successful answer.
        on_retry: called before each pause with the operation, the error and the pause.
    """

    clock: Clock = attrs.field(factory=MonotonicClock)
    budget: RateBudget | None = DEFAULT_BUDGET
    attempts: int = 5
    patience: float = 120.0
    delays: Sequence[float] | None = None
    on_answer: Callable[[Any], None] | None = None
    on_retry: Callable[[str, AWSError, float], None] | None = None
    counts: collections.Counter[str] = attrs.field(factory=collections.Counter, init=False)
    """Attempts made, per operation (``GetDeployment``)."""

    @property
    def calls(self) -> int:
        """Attempts made in all."""
        return sum(self.counts.values())

    def __call__(
        self,
        operation: str,
        function: Callable[..., _T],
        /,
        *,
        retry_if: Callable[[AWSError], bool] | None = None,
        **kwargs: Any,
    ) -> _T:
        """``function(**kwargs)``, the AWS operation ``operation``, as the class says.

        Raises:
            AWSError: the last error, once it may not or need not be retried.
            ConfigurationError: this machine's set-up cannot work (never retried).
        """
        retryable = retry_if if retry_if is not None else _retryable
        started = self.clock.time()
        for record in _RECORDERS:
            record(operation, function, kwargs)

        def attempt() -> _T:
            if self.budget is not None:
                self.budget.acquire(self.clock)
            self.counts[operation] += 1
            with translate_errors(operation):
                answer = function(**kwargs)
            if self.on_answer is not None:
                self.on_answer(answer)
            return answer

        try:
            return attempt()
        except AWSError as exc:
            if not retryable(exc) or self.attempts <= 1:
                raise
            first = exc
        return self._retry(operation, attempt, first, retryable, started)

    def _retry(
        self,
        operation: str,
        attempt: Callable[[], _T],
        first: AWSError,
        retryable: Callable[[AWSError], bool],
        started: float,
    ) -> _T:
        import tenacity  # only now: a hook whose calls all succeed never imports it

        if self.delays is not None:
            wait: Any = tenacity.wait_chain(*(tenacity.wait_fixed(d) for d in self.delays))
            attempts = min(self.attempts, len(self.delays) + 1)
        else:
            wait = tenacity.wait_exponential_jitter(initial=1.0, max=20.0, jitter=1.0)
            attempts = self.attempts

        def stop(state: tenacity.RetryCallState) -> bool:
            error = state.outcome.exception() if state.outcome is not None else None
            unreachable = isinstance(error, AWSError) and error.code == UNREACHABLE
            return (
                state.attempt_number >= attempts
                or (unreachable and state.attempt_number >= UNREACHABLE_ATTEMPTS)
                or self.clock.time() - started >= self.patience
            )

        def before_sleep(state: tenacity.RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome is not None else None
            pause = state.next_action.sleep if state.next_action is not None else 0.0
            if self.on_retry is not None and isinstance(error, AWSError):
                self.on_retry(operation, error, pause)

        made = [first]  # tenacity's first attempt is the one already made

        def again() -> _T:
            if made:
                raise made.pop()
            return attempt()

        retrying = tenacity.Retrying(
            sleep=self.clock.sleep,
            stop=stop,
            wait=wait,
            # The first error was judged already; judge each later one once.
            retry=tenacity.retry_if_exception(
                lambda exc: exc is first or (isinstance(exc, AWSError) and retryable(exc))
            ),
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(again)


def _retryable(error: AWSError) -> bool:
    return isinstance(error, RETRYABLE)
