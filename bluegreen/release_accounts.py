"""Where a release's services live: one set of AWS clients and one rate budget per account
and region (``Accounts``).

A service of a release may name a region and an IAM role to assume for its account
(``ServiceRelease.role``). Every service with the same ``(role, region)`` shares one
``Clients`` (made once) and one ``RateBudget``, so fifty services in one account and region
together stay within ``rate`` calls per second, while another account or region has its own
(AWS throttles each account and region on its own). A role is assumed through STS
``AssumeRole`` (through the one ``Caller``), and its credentials are refreshed before they
expire, so a release that runs for hours keeps working.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from bluegreen._aws import Caller, Clients
from bluegreen.clock import MonotonicClock, RateBudget

if TYPE_CHECKING:
    import boto3

    from bluegreen.clock import Clock
    from bluegreen.manifest import ServiceRelease

__all__ = ["Account", "Accounts", "ROLE_SESSION_SECONDS"]

ROLE_SESSION_SECONDS = 3600
"""How long assumed-role credentials last; botocore refreshes them 15 minutes before."""

Key = tuple[str | None, str | None]


@attrs.frozen
class Account:
    """The clients and the rate budget of one ``(role, region)``."""

    role: str | None
    region: str | None
    clients: Clients
    budget: RateBudget

    @property
    def name(self) -> str:
        """``role @ region`` as people read it (``default credentials`` without a role)."""
        who = self.role or "default credentials"
        return f"{who} @ {self.region}" if self.region else who


@attrs.define
class Accounts:
    """The ``Account`` of every ``(role, region)`` a release uses, made on first use.

    Args:
        clients: the clients to use for every service that names neither a role nor a region
            (tests pass the simulator's); without it, ``session`` (or a default session)
            makes them.
        session: the ``boto3.Session`` whose credentials assume the roles and whose region is
            the default.
        endpoint_url: send every call there (``bluegreen sim serve``).
        rate, burst: each account's ``RateBudget``.
        clock: where retries of ``AssumeRole`` wait.
        session_name: the ``RoleSessionName`` of assumed roles (CloudTrail shows it).
    """

    clients: Clients | None = None
    session: boto3.Session | None = None
    endpoint_url: str | None = None
    rate: float = 5.0
    burst: float = 10.0
    clock: Clock = attrs.field(factory=MonotonicClock)
    session_name: str = "bluegreen-release"
    _made: dict[Key, Account] = attrs.field(factory=dict, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def for_service(self, service: ServiceRelease) -> Account:
        """The account ``service`` lives in."""
        return self.get(service.role, service.region)

    def get(self, role: str | None, region: str | None) -> Account:
        """The account of ``(role, region)``, made on first use."""
        with self._lock:
            account = self._made.get((role, region))
            if account is None:
                account = Account(
                    role, region, self._clients(role, region), RateBudget(self.rate, self.burst)
                )
                self._made[(role, region)] = account
            return account

    @property
    def all(self) -> tuple[Account, ...]:
        """Every account made so far."""
        with self._lock:
            return tuple(self._made.values())

    def _clients(self, role: str | None, region: str | None) -> Clients:
        if role is None and region is None and self.clients is not None:
            return self.clients
        base = self._base_session()
        if role is None:
            same = region is None or region == base.region_name
            session = base if same else _session_with(base.get_credentials(), region)
        else:
            session = self._assumed(base, role, region or base.region_name)
        return Clients(session=session, endpoint_url=self._endpoint())

    def _base_session(self) -> boto3.Session:
        if self.clients is not None and self.clients.session is not None:
            return self.clients.session
        if self.session is not None:
            return self.session
        import boto3

        self.session = boto3.Session()
        return self.session

    def _endpoint(self) -> str | None:
        if self.endpoint_url is not None:
            return self.endpoint_url
        return self.clients.endpoint_url if self.clients is not None else None

    def _assumed(self, base: boto3.Session, role: str, region: str | None) -> boto3.Session:
        """A session whose credentials come from ``AssumeRole(role)``, refreshed by botocore
        before they expire."""
        import botocore.credentials

        sts = Clients(session=base, endpoint_url=self._endpoint()).client("sts")
        call = Caller(clock=self.clock, budget=None)
        refresh = _refresher(call, sts, role, self.session_name)
        credentials = botocore.credentials.RefreshableCredentials.create_from_metadata(
            metadata=refresh(), refresh_using=refresh, method="sts-assume-role"
        )
        return _session_with(credentials, region)


def _session_with(credentials: Any, region: str | None) -> boto3.Session:
    """A new session with these (possibly refreshing) credentials, in ``region``."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    # Shared, so one refresh serves every client made from it (botocore has no public setter
    # for a credentials object).
    core._credentials = credentials  # type: ignore[attr-defined]
    if region:
        core.set_config_variable("region", region)
    return boto3.Session(botocore_session=core)


def _refresher(
    call: Caller, sts: Any, role: str, session_name: str
) -> Callable[[], dict[str, str]]:
    def refresh() -> dict[str, str]:
        answer = call(
            "AssumeRole",
            sts.assume_role,
            RoleArn=role,
            RoleSessionName=session_name[:64],
            DurationSeconds=ROLE_SESSION_SECONDS,
        )
        credentials = answer["Credentials"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    return refresh
