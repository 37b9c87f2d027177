"""Drive the simulator the way a release script does: real boto3 clients, one deployment at a
time. Shared by the ``test_simulator_*`` conformance tests.

Clients are created when a ``Deployer`` is made, so make it after the simulator started.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bluegreen import AppSpec, discover

EVENTS = (
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
)
TERMINAL = ("Succeeded", "Failed", "Stopped")


class _Made:
    """Clients made with ``client_kwargs`` (a Config of the test's own)."""

    def __init__(self, session: boto3.Session, client_kwargs: Mapping[str, Any]) -> None:
        for name, service in (
            ("codedeploy", "codedeploy"),
            ("ecs", "ecs"),
            ("elbv2", "elbv2"),
            ("cloudwatch", "cloudwatch"),
            ("autoscaling", "application-autoscaling"),
        ):
            setattr(self, name, session.client(service, **client_kwargs))  # type: ignore[call-overload]


class Deployer:
    """The sample environment of a running simulator, seen through boto3."""

    def __init__(self, sim: Any, env: Any, **client_kwargs: Any) -> None:
        self.sim = sim
        self.env = env
        if client_kwargs:
            session: boto3.Session = sim.clients().session
            clients: Any = _Made(session, client_kwargs)
        else:
            # The simulator's clients, kept for the process (testing/_client_pool): making
            # five clients per test cost more than most tests' calls.
            clients = sim.clients()
        self.codedeploy = clients.codedeploy
        self.ecs = clients.ecs
        self.elbv2 = clients.elbv2
        self.cloudwatch = clients.cloudwatch
        self.autoscaling = clients.autoscaling

    @classmethod
    def create(cls, sim: Any, **options: Any) -> Deployer:
        """The sample environment built with ``options`` (see ``sim.create_environment``)."""
        return cls(sim, sim.create_environment(**options))

    # -- starting deployments -------------------------------------------------------

    def register_revision(
        self, *, image: str = "nginx:1.28", container_name: str | None = None, port: int = 80
    ) -> str:
        """A new revision of the service's task-definition family; returns its ARN."""
        return str(
            self.ecs.register_task_definition(
                family=self.env.family,
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu="256",
                memory="512",
                containerDefinitions=[
                    {
                        "name": container_name or self.env.container_name,
                        "image": image,
                        "essential": True,
                        "portMappings": [{"containerPort": port, "protocol": "tcp"}],
                    }
                ],
            )["taskDefinition"]["taskDefinitionArn"]
        )

    def appspec(
        self, task_definition: str | None = None, *, hooks: Mapping[str, str] | None = None
    ) -> AppSpec:
        """The AppSpec that deploys ``task_definition`` (a new revision by default)."""
        state = discover(self.env.cluster, self.env.service, clients=self.sim.clients())
        return AppSpec.for_service(
            state, task_definition or self.register_revision(), hooks=hooks or {}
        )

    def deploy(
        self,
        *,
        hooks: Mapping[str, str] | None = None,
        appspec: AppSpec | None = None,
        revision: Mapping[str, Any] | None = None,
        **create_kwargs: Any,
    ) -> str:
        """CreateDeployment in the sample group; returns the deployment id."""
        if revision is None:
            revision = (appspec or self.appspec(hooks=hooks)).revision()
        return str(
            self.codedeploy.create_deployment(
                applicationName=self.env.application,
                deploymentGroupName=self.env.deployment_group,
                revision=dict(revision),
                **create_kwargs,
            )["deploymentId"]
        )

    # -- reading state ----------------------------------------------------------------

    def info(self, deployment_id: str) -> dict[str, Any]:
        return dict(self.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"])

    def status(self, deployment_id: str) -> str:
        return str(self.info(deployment_id)["status"])

    def target(self, deployment_id: str) -> dict[str, Any]:
        answer = self.codedeploy.get_deployment_target(
            deploymentId=deployment_id, targetId=f"{self.env.cluster}:{self.env.service}"
        )
        return dict(answer["deploymentTarget"]["ecsTarget"])

    def events(self, deployment_id: str) -> dict[str, str]:
        """``{event name: status}`` in the target's order."""
        return {
            e["lifecycleEventName"]: e["status"]
            for e in self.target(deployment_id)["lifecycleEvents"]
        }

    def event(self, deployment_id: str, name: str) -> dict[str, Any]:
        return next(
            e
            for e in self.target(deployment_id)["lifecycleEvents"]
            if e["lifecycleEventName"] == name
        )

    def traffic(self, listener_arn: str | None = None) -> dict[str, int]:
        """``{target group name: weight}`` of a listener's forward action, read with
        DescribeListeners (a plain forward to one group counts as weight 100)."""
        arn = listener_arn or self.env.production_listener_arn
        listener = self.elbv2.describe_listeners(ListenerArns=[arn])["Listeners"][0]
        action = next(a for a in listener["DefaultActions"] if a["Type"] == "forward")
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups")
        if not groups:
            return {self.tg_name(action["TargetGroupArn"]): 100}
        return {self.tg_name(g["TargetGroupArn"]): g["Weight"] for g in groups}

    def tg_name(self, arn: str) -> str:
        return arn.rsplit(":targetgroup/", maxsplit=1)[-1].split("/", maxsplit=1)[0]

    def task_sets(self) -> list[dict[str, Any]]:
        """The service's task sets, from DescribeServices."""
        services = self.ecs.describe_services(cluster=self.env.cluster, services=[self.env.service])
        return list(services["services"][0]["taskSets"])

    def task_set(self, status: str) -> dict[str, Any]:
        return next(ts for ts in self.task_sets() if ts["status"] == status)

    def group(self) -> dict[str, Any]:
        return dict(
            self.codedeploy.get_deployment_group(
                applicationName=self.env.application,
                deploymentGroupName=self.env.deployment_group,
            )["deploymentGroupInfo"]
        )

    # -- moving time ------------------------------------------------------------------

    def advance_to(self, when: float) -> None:
        """Advance simulated time to ``when`` (seconds since the epoch)."""
        self.sim.advance(max(0.0, when - self.sim.clock.time()))

    def until_status(self, deployment_id: str, *statuses: str, timeout: float = 6 * 3600) -> float:
        """Advance until the deployment has one of ``statuses``; returns the seconds it took."""
        wanted = statuses or TERMINAL
        return float(
            self.sim.run_until(lambda: self.status(deployment_id) in wanted, timeout=timeout)
        )

    def until_event(
        self, deployment_id: str, name: str, *statuses: str, timeout: float = 6 * 3600
    ) -> float:
        """Advance until lifecycle event ``name`` has one of ``statuses`` (default: started)."""
        wanted = statuses or ("InProgress", "Succeeded", "Failed", "Skipped")

        def reached() -> bool:
            if self.status(deployment_id) == "Created":
                return False
            return self.events(deployment_id).get(name) in wanted

        return float(self.sim.run_until(reached, timeout=timeout))

    def done(self, deployment_id: str) -> str:
        """Run the deployment (and any rollback it starts) to the end; its final status."""
        return str(self.sim.run_until_done(deployment_id))

    def rollback_of(self, deployment_id: str) -> str:
        """The id of the rollback deployment ``deployment_id`` started."""
        return str(self.info(deployment_id)["rollbackInfo"]["rollbackDeploymentId"])

    # -- alarms -----------------------------------------------------------------------

    def set_alarm(self, state: str = "ALARM", name: str | None = None) -> None:
        self.cloudwatch.set_alarm_state(
            AlarmName=name or self.env.alarm_names[0],
            StateValue=state,
            StateReason="set by a test",
        )

    # -- hooks ------------------------------------------------------------------------

    def report(self, event: Mapping[str, Any], status: str = "Succeeded") -> dict[str, Any]:
        return dict(
            self.codedeploy.put_lifecycle_event_hook_execution_status(
                deploymentId=event["DeploymentId"],
                lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
                status=status,
            )
        )

    def reporting_hook(
        self, status: str = "Succeeded", calls: list[dict[str, Any]] | None = None
    ) -> Callable[[dict[str, Any], Any], None]:
        """A hook that records its event in ``calls`` and reports ``status``."""

        def hook(event: dict[str, Any], context: Any) -> None:
            if calls is not None:
                calls.append(event)
            self.report(event, status)

        return hook

    def silent_hook(
        self, calls: list[dict[str, Any]] | None = None
    ) -> Callable[[dict[str, Any], Any], None]:
        """A hook that records its event and never reports (the test reports for it)."""

        def hook(event: dict[str, Any], context: Any) -> None:
            if calls is not None:
                calls.append(event)

        return hook


def error_code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``bluegreen ARGV`` in-process: the exit code, stdout and stderr."""
    from bluegreen.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- release scripts: deploy, plan, and what they leave behind (tests of bluegreen.deploying,
# .create, .revision, .plan, .preflight, .arguments) -------------------------------------------

NEW_IMAGE = "public.ecr.aws/nginx/nginx:1.28"
SECRET = "arn:aws:ssm:us-east-1:123456789012:parameter/web/db-password"
TASK_ROLE = "arn:aws:iam::123456789012:role/webTask"
WRITES = {
    "RegisterTaskDefinition",
    "DeregisterTaskDefinition",
    "CreateDeployment",
    "CreateDeploymentConfig",
    "UpdateService",
    "RegisterScalableTarget",
}


def run_deploy(sim: Any, **kwargs: Any) -> Any:
    """``bluegreen.deploy("prod", "web", ...)`` on the simulator's clients and clock."""
    from bluegreen.deploying import deploy

    kwargs.setdefault("clients", sim.clients())
    return deploy("prod", "web", clock=sim.clock, **kwargs)


def run_plan(sim: Any, **kwargs: Any) -> Any:
    """``bluegreen.plan("prod", "web", ...)`` on the simulator's clients and clock."""
    from bluegreen.deploying import plan

    kwargs.setdefault("clients", sim.clients())
    kwargs.setdefault("clock", sim.clock)
    return plan("prod", "web", **kwargs)


def revisions(d: Deployer, family: str = "web") -> list[str]:
    """The ACTIVE revisions of a family."""
    return list(d.ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"])


def deployments(d: Deployer) -> list[str]:
    """The ids of the sample group's deployments."""
    return list(
        d.codedeploy.list_deployments(
            applicationName=d.env.application, deploymentGroupName=d.env.deployment_group
        )["deployments"]
    )


def writes(sim: Any) -> list[str]:
    """The calls made so far that change something."""
    return [op for _, _, op in sim.api_calls() if op in WRITES]


def register_rich_revision(d: Deployer, *, sidecar: bool = False) -> str:
    """A revision of ``web`` with secrets, environment, roles, a volume and tags."""
    containers: list[dict[str, Any]] = [
        {
            "name": "web",
            "image": "public.ecr.aws/nginx/nginx:1.27",
            "essential": True,
            "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            "environment": [{"name": "MODE", "value": "production"}],
            "secrets": [{"name": "DB_PASSWORD", "valueFrom": SECRET}],
            "mountPoints": [{"sourceVolume": "cache", "containerPath": "/cache"}],
        }
    ]
    if sidecar:
        containers.append(
            {"name": "envoy", "image": "public.ecr.aws/envoy/envoy:v1.30.1", "essential": False}
        )
    return str(
        d.ecs.register_task_definition(
            family="web",
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            executionRoleArn="arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            taskRoleArn=TASK_ROLE,
            volumes=[{"name": "cache"}],
            containerDefinitions=containers,
            tags=[{"key": "team", "value": "payments"}, {"key": "cost-center", "value": "42"}],
        )["taskDefinition"]["taskDefinitionArn"]
    )


def serving(d: Deployer, sim: Any, task_definition: str) -> None:
    """Deploy ``task_definition`` with bluegreen and run it to the end."""
    deployment = run_deploy(sim, task_definition=task_definition)
    assert d.done(deployment.id) == "Succeeded"


def described(d: Deployer, arn: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """DescribeTaskDefinition's task definition and tags."""
    answer = d.ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
    return dict(answer["taskDefinition"]), list(answer.get("tags", []))


def sent_appspec(d: Deployer, deployment_id: str) -> AppSpec:
    """The AppSpec a deployment was created with (GetApplicationRevision by its sha256)."""
    revision = d.info(deployment_id)["revision"]
    answer = d.codedeploy.get_application_revision(
        applicationName=d.env.application, revision=revision
    )
    return AppSpec.parse(answer["revision"]["appSpecContent"]["content"])


def botocore_handlers(sim: Any) -> Iterator[Callable[[str, Callable[..., Any]], None]]:
    """For an ``on_call`` fixture: register a botocore handler
    (``after-call.codedeploy.CreateDeployment``...) on the simulator's shared session for
    clients made from now on; removed when the generator is closed."""
    events = sim.clients().session.events
    registered: list[tuple[str, Callable[..., Any]]] = []

    def register(event: str, handler: Callable[..., Any]) -> None:
        events.register(event, handler)
        registered.append((event, handler))

    yield register
    for event, handler in registered:
        events.unregister(event, handler)


# -- following deployments (tests of bluegreen.deployment, .reading, .waiting, .polling,
# .snapshot, .controls, .rollback) ---------------------------------------------------------------


def attach(sim: Any, deployment_id: str) -> Any:
    """``Deployment.attach`` on the simulator's clients and clock."""
    from bluegreen import Deployment

    return Deployment.attach(deployment_id, clients=sim.clients(), clock=sim.clock)


def without_botocore_retries(sim: Any) -> Any:
    """Clients whose botocore makes one attempt, so every throttle reaches bluegreen."""
    from botocore.config import Config

    from bluegreen import Clients

    return Clients(session=sim.clients().session, config=Config(retries={"total_max_attempts": 1}))


def task_definition_in_service(d: Deployer) -> str:
    """The task definition of the PRIMARY task set."""
    return str(next(ts["taskDefinition"] for ts in d.task_sets() if ts["status"] == "PRIMARY"))


def as_text(renderable: Any, **console_options: Any) -> str:
    """What rich prints of ``renderable`` on a colourless terminal 140 columns wide."""
    import io

    from rich.console import Console

    options = {"width": 140, "no_color": True, "force_terminal": True, **console_options}
    console = Console(file=io.StringIO(), **options)
    console.print(renderable)
    text = console.file.getvalue()
    assert isinstance(text, str)
    return text


def reporting_hook(codedeploy: Any, status: str) -> Callable[[dict[str, Any], Any], None]:
    """A stand-in Lambda hook that reports ``status`` (``Succeeded``/``Failed``) through the
    plain boto3 ``codedeploy`` client given (never through bluegreen's door)."""

    def hook(event: dict[str, Any], context: Any) -> None:
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status=status,
        )

    return hook


def served_client(endpoint_url: str, service: str) -> Any:
    """A plain boto3 client of a served simulator (``bluegreen sim serve``), with the fake
    credentials and region it answers."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
