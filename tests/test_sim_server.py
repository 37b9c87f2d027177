"""The simulator served on 127.0.0.1: plain boto3 with endpoint_url runs whole deployments,
and ``bluegreen sim serve`` starts, seeds, answers and stops cleanly on a signal.

Simulated time runs 600x real time, so a deployment takes about a second. Waits are
bounded and nothing asserts on how long anything took.
"""

from __future__ import annotations

import email.utils
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from bluegreen import AppSpec, Clients, discover
from bluegreen.testing import Environment, Simulator
from bluegreen.testing._server import SimServer

SPEED = 600.0
WAIT_SECONDS = 60.0


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {seconds:g} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def server() -> Iterator[SimServer]:
    with Simulator(speed=SPEED).serve() as running:
        yield running


def _client(server: SimServer, service: str) -> Any:
    return boto3.client(service, endpoint_url=server.endpoint_url, region_name="us-east-1")


def _register_revision(server: SimServer, image: str = "nginx:1.28") -> str:
    arn: str = _client(server, "ecs").register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "web", "image": image, "portMappings": [{"containerPort": 80}]}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def _deploy(server: SimServer, env: Environment, **appspec: Any) -> tuple[str, str]:
    """Create a deployment of a new revision; returns (deployment id, task definition)."""
    state = discover(
        env.cluster, env.service, clients=server.simulator.clients(server.endpoint_url)
    )
    new = _register_revision(server)
    deployment_id: str = _client(server, "codedeploy").create_deployment(
        applicationName=env.application,
        deploymentGroupName=env.deployment_group,
        revision=AppSpec.for_service(state, new, **appspec).revision(),
    )["deploymentId"]
    return deployment_id, new


def _status(server: SimServer, deployment_id: str) -> str:
    info = _client(server, "codedeploy").get_deployment(deploymentId=deployment_id)
    return str(info["deploymentInfo"]["status"])


def _task_sets(server: SimServer, env: Environment) -> list[tuple[str, str]]:
    services = _client(server, "ecs").describe_services(
        cluster=env.cluster, services=[env.service]
    )["services"]
    return sorted((ts["status"], ts["taskDefinition"]) for ts in services[0]["taskSets"])


def test_served_all_at_once_deployment_holds_both_task_sets_until_promoted_then_succeeds(
    server: SimServer,
) -> None:
    env = server.create_environment(ready_wait_minutes=2880)
    deployment_id, new = _deploy(server, env)

    _wait_for(lambda: _status(server, deployment_id) == "Ready", "the deployment to be Ready")
    assert _task_sets(server, env) == [
        ("ACTIVE", new),
        ("PRIMARY", env.task_definition_arn),
    ]

    _client(server, "codedeploy").continue_deployment(
        deploymentId=deployment_id, deploymentWaitType="READY_WAIT"
    )
    _wait_for(
        lambda: _status(server, deployment_id) in ("Succeeded", "Failed", "Stopped"),
        "the deployment to end",
    )
    assert _status(server, deployment_id) == "Succeeded"
    assert _task_sets(server, env) == [("PRIMARY", new)]
    listener = _client(server, "elbv2").describe_listeners(
        ListenerArns=[env.production_listener_arn]
    )["Listeners"][0]
    forward = listener["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    assert {tg["TargetGroupArn"]: tg["Weight"] for tg in forward}[env.target_group_arns[1]] == 100


def test_a_hook_in_the_serving_process_reports_through_aws_endpoint_url(
    server: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint_url)
    env = server.create_environment()
    reported: list[str] = []

    def verify(event: dict[str, Any], context: Any) -> None:
        boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status="Succeeded",
        )
        reported.append(event["DeploymentId"])

    server.simulator.register_hook("CodeDeployHook_verify", verify)
    deployment_id, _ = _deploy(
        server, env, hooks={"AfterAllowTestTraffic": "CodeDeployHook_verify"}
    )

    _wait_for(
        lambda: _status(server, deployment_id) in ("Succeeded", "Failed", "Stopped"),
        "the deployment to end",
    )
    assert _status(server, deployment_id) == "Succeeded"
    assert reported == [deployment_id]


def test_a_codedeploy_operation_the_simulator_lacks_is_a_clean_aws_error(
    server: SimServer,
) -> None:
    with pytest.raises(ClientError) as caught:
        _client(server, "codedeploy").list_on_premises_instances()
    assert caught.value.response["Error"]["Code"] == "InvalidOperationException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_codedeploy_request_that_is_not_json_is_a_serialization_error(
    server: SimServer,
) -> None:
    response = httpx.post(
        server.endpoint_url,
        content=b"not json",
        headers={
            "X-Amz-Target": "CodeDeploy_20141006.GetDeployment",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/"
            "codedeploy/aws4_request, SignedHeaders=host, Signature=0",
        },
    )
    assert response.status_code == 400
    assert response.json()["__type"] == "SerializationException"


def test_a_second_simulator_in_the_same_process_is_refused(server: SimServer) -> None:
    other = Simulator(speed=SPEED)
    try:
        with pytest.raises(RuntimeError, match="already running"):
            other.serve()
    finally:
        other.stop()


def test_a_port_in_use_raises_oserror_and_leaves_nothing_running() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        server = SimServer(Simulator(speed=SPEED), port=port)
        try:
            with pytest.raises(OSError, match="in use"):
                server.start()
            assert not server.running
        finally:
            server.stop()
    with Simulator(speed=SPEED).serve():  # the failed start left no claim on the process
        pass


def _read_lines(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def _next_line_with(lines: queue.Queue[str], text: str, seen: list[str]) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            pytest.fail(f"no line with {text!r} from bluegreen sim serve; got {seen!r}")
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return line


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sim_serve_seeds_the_sample_answers_boto3_and_exits_0_on_a_signal(
    signum: signal.Signals, tmp_path: Any
) -> None:
    """One ``bluegreen sim serve`` process per signal, followed from its start to its exit
    (each start costs seconds of moto's model loading, so one process is checked for all
    of these): it accepts connections only once the sample is seeded, stands a ``--hook``
    in for a Lambda function, answers boto3, takes ``--blue-cleanup`` seconds to remove
    blue after the termination wait, and exits 0 on the signal."""
    (tmp_path / "served_hooks.py").write_text(
        "def verify(event, context):\n    return None\n", encoding="utf-8"
    )
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT")}
    command = [sys.executable, "-m", "bluegreen", "sim", "serve", "--port", str(port)]
    command += ["--speed", "600", "--hook", "CodeDeployHook_verify=served_hooks:verify"]
    command += ["--termination-wait", "0", "--blue-cleanup", "120"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        endpoint = f"http://127.0.0.1:{port}"
        _check_accepts_connections_only_once_the_sample_is_seeded(process, port)
        banner = _next_line_with(lines, "serving on http://127.0.0.1:", seen)
        assert banner.split()[-1] == endpoint
        _next_line_with(lines, "Press Ctrl-C", seen)
        assert any("AppECS-prod-web / DgpECS-prod-web" in line for line in seen)

        codedeploy = boto3.client("codedeploy", endpoint_url=endpoint, region_name="us-east-1")
        assert codedeploy.list_applications()["applications"] == ["AppECS-prod-web"]
        ecs = boto3.client("ecs", endpoint_url=endpoint, region_name="us-east-1")
        service = ecs.describe_services(cluster="prod", services=["web"])["services"][0]
        assert service["deploymentController"] == {"type": "CODE_DEPLOY"}
        assert [ts["status"] for ts in service["taskSets"]] == ["PRIMARY"]

        _check_blue_cleanup_sets_how_long_blue_takes_to_go_after_the_termination_wait(endpoint)

        process.send_signal(signum)
        assert process.wait(timeout=WAIT_SECONDS) == 0
        reader.join(timeout=WAIT_SECONDS)
        assert "bluegreen simulator stopped" in "".join(seen + list(lines.queue))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=WAIT_SECONDS)
        process.stdout.close()


def _date_seconds(response: Any) -> float:
    header = response["ResponseMetadata"]["HTTPHeaders"]["date"]
    assert header.endswith(" GMT")
    return email.utils.parsedate_to_datetime(header).timestamp()


def test_served_answers_carry_a_date_header_in_simulated_time(server: SimServer) -> None:
    sim = server.simulator
    server.create_environment()
    # At 600x, simulated time has run well ahead of the wall clock by now.
    _wait_for(lambda: sim.clock.time() - time.time() > 30, "simulated time to run ahead")
    calls: list[Callable[[], dict[str, Any]]] = [
        lambda: _client(server, "codedeploy").list_applications(),
        lambda: _client(server, "ecs").list_clusters(),
        lambda: _client(server, "elbv2").describe_load_balancers(),
        lambda: _client(server, "cloudwatch").describe_alarms(),
    ]
    for call in calls:
        before = sim.clock.time()
        answer = call()
        after = sim.clock.time()
        assert int(before) <= _date_seconds(answer) <= after

    with pytest.raises(ClientError) as caught:
        _client(server, "codedeploy").get_deployment(deploymentId="d-AAAAAAAAA")
    assert _date_seconds(caught.value.response) <= sim.clock.time()
    assert _date_seconds(caught.value.response) > time.time() + 30


def test_served_list_deployments_refuses_an_unknown_status(server: SimServer) -> None:
    server.create_environment()
    with pytest.raises(ClientError) as caught:
        _client(server, "codedeploy").list_deployments(includeOnlyStatuses=["Running"])
    assert caught.value.response["Error"]["Code"] == "InvalidDeploymentStatusException"

    # The AWS CLI sends the same awsJson1.1 request (neither validates enums client-side).
    raw = httpx.post(
        server.endpoint_url,
        content=b'{"includeOnlyStatuses": ["Running"]}',
        headers={
            "X-Amz-Target": "CodeDeploy_20141006.ListDeployments",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/"
            "codedeploy/aws4_request, SignedHeaders=host, Signature=0",
        },
    )
    assert raw.status_code == 400
    assert raw.json()["__type"] == "InvalidDeploymentStatusException"
    assert email.utils.parsedate_to_datetime(raw.headers["date"]).tzname() == "UTC"


def _served_hook(event: dict[str, Any], context: Any) -> None:
    """Registered for GetFunction only."""


def test_served_get_function_answers_registered_hooks_only(server: SimServer) -> None:
    server.simulator.register_hook("CodeDeployHook_verify", _served_hook)
    lam = _client(server, "lambda")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:CodeDeployHook_verify"

    for name in ("CodeDeployHook_verify", arn, "123456789012:function:CodeDeployHook_verify"):
        config = lam.get_function(FunctionName=name)["Configuration"]
        assert config["FunctionArn"] == arn
        assert (config["State"], config["LastUpdateStatus"]) == ("Active", "Successful")

    with pytest.raises(ClientError) as caught:
        lam.get_function(FunctionName="CodeDeployHook_other")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert caught.value.response["Error"]["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:CodeDeployHook_other"
    )


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _check_accepts_connections_only_once_the_sample_is_seeded(
    process: subprocess.Popen[str], port: int
) -> None:
    """Wait for the port as a script would; the first answers already hold the sample
    and the ``--hook`` function."""
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + WAIT_SECONDS
    while not _accepts(port):  # as a script waiting for the port would
        assert process.poll() is None, "bluegreen sim serve exited"
        if time.monotonic() > deadline:
            pytest.fail("bluegreen sim serve never accepted a connection")
        time.sleep(0.01)

    ecs = boto3.client("ecs", endpoint_url=endpoint, region_name="us-east-1")
    assert ecs.list_clusters()["clusterArns"] != []
    service = ecs.describe_services(cluster="prod", services=["web"])["services"]
    assert [s["serviceName"] for s in service] == ["web"]
    lam = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1")
    config = lam.get_function(FunctionName="CodeDeployHook_verify")["Configuration"]
    assert config["Handler"] == "served_hooks.verify"


def _check_blue_cleanup_sets_how_long_blue_takes_to_go_after_the_termination_wait(
    endpoint: str,
) -> None:
    """``--termination-wait 0 --blue-cleanup 120``: the deployment succeeds 120 simulated
    seconds after its last event, through the AWS API as any client sees it."""
    session = boto3.Session(region_name="us-east-1")
    clients = Clients(session=session, endpoint_url=endpoint)
    state = discover("prod", "web", clients=clients)
    new = clients.ecs.register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "web", "image": "nginx:2", "portMappings": [{"containerPort": 80}]}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    deployment_id = clients.codedeploy.create_deployment(
        applicationName="AppECS-prod-web",
        deploymentGroupName="DgpECS-prod-web",
        revision=AppSpec.for_service(state, new).revision(),
    )["deploymentId"]

    def info() -> Any:
        return clients.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]

    _wait_for(lambda: info()["status"] in ("Succeeded", "Failed", "Stopped"), "the end")
    done = info()
    target = clients.codedeploy.get_deployment_target(
        deploymentId=deployment_id, targetId="prod:web"
    )["deploymentTarget"]["ecsTarget"]
    last = next(
        e for e in target["lifecycleEvents"] if e["lifecycleEventName"] == "AfterAllowTraffic"
    )
    assert done["status"] == "Succeeded"
    assert 120 <= (done["completeTime"] - last["endTime"]).total_seconds() < 125
