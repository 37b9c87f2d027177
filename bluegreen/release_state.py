"""A release's state, read back from AWS: what ``bluegreen release status FILE`` shows and
what ``resume FILE`` starts from, from any shell, with no state kept on disk.

Every deployment a release creates starts its description with ``release_marker(id, wave)``
(its own rollbacks under ``on_failure: rollback`` with ``release_marker(id, wave,
rollback=True)``). So a service's part of a release is found in its deployment group's
history: the newest deployment whose marker names the release, and the newest rollback
deployment whose marker does (``find_release_deployments``). ``read_release`` does that for
every service of a manifest, a few at once, and says where each one is (``Phase``).

Cost per service (API calls; each draws from its account's ``RateBudget``):

===============================  ============  =============================================
call                             count         why
===============================  ============  =============================================
ecs:DescribeServices             0 or 1        finding the deployment group as ``deploy``
codedeploy:GetDeploymentGroup    0 or 1        does (none when the manifest names it)
codedeploy:ListDeployments       1 per 100     the group's deployment ids, newest first
codedeploy:BatchGetDeployments   1 per 25      their descriptions, until the release's
                                               newest deployment of the service is read
===============================  ============  =============================================

A service the release has deployed costs 2 to 4 calls when its newest deployment is among
the group's 25 newest (created since ``since``). A service the release has not deployed yet
costs a read of the group's whole history (``ceil(N/100)`` ListDeployments and
``ceil(N/25)`` BatchGetDeployments for N deployments), unless ``since`` bounds it: pass the
time the release started when it is known. A group found by a scan costs the scan as
``bluegreen.discovery`` says (once: ``deploy`` tags the service with what it found).

An ECS-native service (no deployment group) is read by ``bluegreen.native_release_state``:
the DescribeServices above alone when no tag of the service carries the release's mark,
else also ListServiceDeployments (1 per 100 deployments since the release's first tag) and
DescribeServiceRevisions (1 per 20 of them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from bluegreen._aws import Caller
from bluegreen.discovery import locate
from bluegreen.errors import AWSError, ResourceNotFoundError, ValidationError
from bluegreen.manifest import parse_marker
from bluegreen.native_config import is_native_service
from bluegreen.native_release_state import native_release_deployments
from bluegreen.release_progress import Phase, ReleaseState, ServiceProgress
from bluegreen.server_time import ServerClock, http_date, server_clock_for
from bluegreen.snapshot import ROLLBACK_CREATOR
from bluegreen.status import DeploymentStatus

if TYPE_CHECKING:
    from bluegreen._aws import Clients
    from bluegreen.clock import Clock
    from bluegreen.manifest import Manifest, ServiceRelease
    from bluegreen.release_accounts import Accounts

__all__ = [
    "Phase",
    "ReleaseState",
    "ServiceProgress",
    "find_release_deployments",
    "read_release",
]

_BATCH = 25
"""BatchGetDeployments takes at most this many ids."""


def find_release_deployments(
    service: ServiceRelease,
    release_id: str,
    *,
    clients: Clients,
    call: Caller,
    since: dt.datetime | None = None,
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The release's newest deployment of ``service`` and its newest rollback of it.

    The deployment group is the one the manifest names, else the one ``deploy`` finds
    (``bluegreen.discovery.locate``: the service's tags, the console's naming, a scan). Its
    deployments are listed newest first (created at or after ``since`` when given) and read
    25 at a time; CodeDeploy's own rollbacks are skipped (their description is not the
    release's). The reading stops once the release's deployment is found, as long as the
    answers show the listing newest first; otherwise the whole listing is read. An
    ECS-native service's are read from its service deployments and the description tags
    on it (``bluegreen.native_release_state``), in the same shape.

    Args:
        service: the service, as the manifest gives it.
        release_id: the release's id (``Manifest.id``).
        clients: the clients of the service's account and region.
        call: the ``Caller`` every call goes through (its budget and clock).
        since: only deployments created at or after this moment.

    Returns:
        ``(deployment, rollback)``: BatchGetDeployments ``deploymentInfo`` dicts, or None.
        A rollback counts only when it was created after the deployment (or no deployment
        was found): one made before the release deployed the service again is history.

    Raises:
        ResourceNotFoundError: the service or its deployment group does not exist.
        ServiceConfigError: the named deployment group does not deploy this service.
        AWSError: a call failed.
    """
    located = _group(service, clients, call)
    if not isinstance(located, tuple):  # ECS-native: descriptions are tags on the service
        return native_release_deployments(
            located, release_id, clients=clients, call=call, since=since
        )
    application, group = located
    extra: dict[str, Any] = {"createTimeRange": {"start": since}} if since is not None else {}
    ids = _listed(call, clients, application, group, extra)
    deployment: dict[str, Any] | None = None
    rollback: dict[str, Any] | None = None
    newest_first, last_seen = True, None
    for chunk in _chunks(ids, _BATCH):
        answer = call(
            "BatchGetDeployments", clients.codedeploy.batch_get_deployments, deploymentIds=chunk
        )
        by_id = {i.get("deploymentId"): i for i in answer.get("deploymentsInfo", ())}
        for info in (by_id[i] for i in chunk if i in by_id):
            created = info.get("createTime")
            if created is not None and last_seen is not None and created > last_seen:
                newest_first = False
            last_seen = created if created is not None else last_seen
            marker = parse_marker(info.get("description"))
            if marker is None or marker.release != release_id:
                continue
            if info.get("creator") == ROLLBACK_CREATOR:
                continue
            if marker.rollback:
                rollback = _newer(rollback, info)
            else:
                deployment = _newer(deployment, info)
        # A rollback of the release older than its newest deployment no longer counts, so
        # nothing past that deployment matters, if the listing is newest first indeed.
        if deployment is not None and newest_first:
            break
    return deployment, _after(rollback, deployment)


def read_release(
    manifest: Manifest,
    accounts: Accounts,
    *,
    clock: Clock | None = None,
    since: dt.datetime | None = None,
    max_workers: int = 4,
) -> ReleaseState:
    """Read where every service of ``manifest`` is, from its deployments in AWS.

    ``max_workers`` services are read at once (their calls still share each account's
    budget); the result is in manifest order whatever the order of the reads. A service
    whose deployments cannot be read (no deployment group, access denied, throttled
    beyond the retries) gets its ``problem`` and the phase UNKNOWN, and the others are read.
    The module docstring gives the cost.

    Args:
        manifest: the release.
        accounts: the clients and budget of each service's account and region.
        clock: where retries and the budget wait (default: the accounts' clock).
        since: only deployments created at or after this moment count (and cost).
        max_workers: services read at once (at least 1).

    Raises:
        ValidationError: ``max_workers`` is less than 1.
        ConfigurationError: this machine's AWS set-up cannot work (no region, credentials).
    """
    if max_workers < 1:
        raise ValidationError([f"max_workers must be at least 1, not {max_workers}"])
    waiting = clock if clock is not None else accounts.clock
    server = server_clock_for(waiting)
    services = [(wave.name, service) for wave in manifest.waves for service in wave.services]
    ready = _prepared_clients(accounts, [service for _, service in services])

    def read(item: tuple[str, ServiceRelease]) -> ServiceProgress:
        wave, service = item
        made = ready[service.account]
        if isinstance(made, str):
            return ServiceProgress(service=service, wave=wave, problem=made)
        clients, budget = made
        call = Caller(clock=waiting, budget=budget, on_answer=_observer(server))
        try:
            found = find_release_deployments(
                service, manifest.id, clients=clients, call=call, since=since
            )
        except (AWSError, ValidationError) as exc:
            return ServiceProgress(service=service, wave=wave, problem=str(exc))
        return _progress(service, wave, *found, server=server)

    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="release-state") as pool:
        progress = tuple(pool.map(read, services))
    return ReleaseState(release_id=manifest.id, services=progress, read_at=server.now())


# -- reading ------------------------------------------------------------------------------


def _group(
    service: ServiceRelease, clients: Clients, call: Caller
) -> tuple[str, str] | Mapping[str, Any]:
    """The service's (application, deployment group): named, or found as ``deploy`` does;
    or, for an ECS-native service (no group), its DescribeServices answer, tags included."""
    if service.application is not None and service.deployment_group is not None:
        return service.application, service.deployment_group
    found = locate(
        call,
        clients,
        service.cluster,
        service.service,
        application=service.application,
        deployment_group=service.deployment_group,
    )
    if found.group is None and is_native_service(found.raw):
        return found.raw
    if found.group is None:
        raise ResourceNotFoundError(
            f"service {found.cluster}/{found.service} has no CodeDeploy deployment group "
            f"(deployment controller {found.controller}): the release cannot have deployed it",
            operation="GetDeploymentGroup",
            code="DeploymentGroupNotFound",
        )
    return found.group.application, found.group.name


def _listed(
    call: Caller, clients: Clients, application: str, group: str, extra: Mapping[str, Any]
) -> Iterator[str]:
    """The group's deployment ids, page by page as they are consumed (a reading that stops
    early saves the later pages)."""
    arguments: dict[str, Any] = {
        "applicationName": application,
        "deploymentGroupName": group,
        **extra,
    }
    while True:
        page = call("ListDeployments", clients.codedeploy.list_deployments, **arguments)
        yield from page.get("deployments", ())
        token = page.get("nextToken")
        if not token:
            return
        arguments["nextToken"] = token


def _chunks(ids: Iterator[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for deployment_id in ids:
        chunk.append(deployment_id)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _newer(best: dict[str, Any] | None, info: Mapping[str, Any]) -> dict[str, Any]:
    """``info`` if it was created after ``best`` (or ``best`` is None), else ``best``."""
    if best is None:
        return dict(info)
    earliest = dt.datetime.min.replace(tzinfo=dt.UTC)
    return (
        dict(info)
        if (info.get("createTime") or earliest) > (best.get("createTime") or earliest)
        else best
    )


def _after(
    rollback: dict[str, Any] | None, deployment: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """``rollback`` unless it is older than ``deployment``: the release deployed the service
    again after rolling it back, and that rollback is history."""
    if rollback is None or deployment is None:
        return rollback
    rolled, created = rollback.get("createTime"), deployment.get("createTime")
    return None if rolled is not None and created is not None and rolled < created else rollback


def _prepared_clients(
    accounts: Accounts, services: Sequence[ServiceRelease]
) -> dict[tuple[str | None, str | None], Any]:
    """Each account's (clients, budget), its clients made here, in one thread (a boto3
    session is not safe to make clients from in several); or why it could not be had."""
    ready: dict[tuple[str | None, str | None], Any] = {}
    for service in services:
        if service.account in ready:
            continue
        try:
            account = accounts.for_service(service)
            account.clients.codedeploy  # noqa: B018 (made now, not in the workers)
            mine = [s for s in services if s.account == service.account]
            if any(s.application is None or s.deployment_group is None for s in mine):
                account.clients.ecs  # noqa: B018
        except AWSError as exc:
            ready[service.account] = f"the account could not be used: {exc}"
            continue
        ready[service.account] = (account.clients, account.budget)
    return ready


def _observer(server: ServerClock) -> Callable[[Any], None]:
    def observe(answer: Any) -> None:
        server.observe(http_date(answer))

    return observe


def _progress(
    service: ServiceRelease,
    wave: str,
    deployment: Mapping[str, Any] | None,
    rollback: Mapping[str, Any] | None,
    *,
    server: ServerClock,
) -> ServiceProgress:
    """The service's progress from its deployment and the rollback of it."""
    created = deployment.get("createTime") if deployment else None
    moments = [
        when
        for info in (deployment, rollback)
        if info
        for when in (info.get("createTime"), info.get("completeTime"))
        if when is not None
    ]
    if moments:
        server.observe(at_least=max(moments))
    status = _status(deployment)
    rollback_status = _status(rollback)
    problem = None
    for info, read in ((deployment, status), (rollback, rollback_status)):
        if info is not None and read is None:
            problem = (
                f"deployment {info.get('deploymentId')} has the unknown status "
                f"{info.get('status')!r}"
            )
    error = (deployment or {}).get("errorInformation") or {}
    return ServiceProgress(
        service=service,
        wave=wave,
        deployment_id=deployment.get("deploymentId") if deployment else None,
        status=status,
        created=created,
        completed=deployment.get("completeTime") if deployment else None,
        error=": ".join(str(error[k]) for k in ("code", "message") if error.get(k)) or None,
        rollback_id=rollback.get("deploymentId") if rollback else None,
        rollback_status=rollback_status,
        problem=problem,
    )


def _status(info: Mapping[str, Any] | None) -> DeploymentStatus | None:
    if info is None:
        return None
    try:
        return DeploymentStatus(str(info.get("status")))
    except ValueError:
        return None
