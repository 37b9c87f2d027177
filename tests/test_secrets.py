"""No environment value or secret in any output (issue 13).

Sentinel values, different in the revision the service runs and in the one deployed next,
sit on every sensitive field of the task definition (``bluegreen.sensitive``). Every command
that can run against the service runs, and every value a script prints; none of their
stdout, stderr, log records, JSON events, errors and reprs holds a sentinel, and the plan
says which values changed. ``--show-values`` does print them, which proves they were
planted where the plan reads.

The commands run in-process and their waits advance the simulator's virtual clock.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from deploying import Deployer, attach, run_cli, run_deploy, run_plan

import bluegreen.cli._clock
from bluegreen import Milestone, ServiceConfigError, discover
from bluegreen.sensitive import MASK

SENTINEL = "SENTINEL"
SERVICE = ("--cluster", "prod", "--service", "web")
NEW_IMAGE = "public.ecr.aws/nginx/nginx:1.29"

CHANGED = (
    "containerDefinitions[web].environment[DB_PASSWORD].value: (sensitive value changed)",
    "containerDefinitions[web].environment[GONE].value: (sensitive value removed)",
    "containerDefinitions[web].environment[ADDED].value: (sensitive value added)",
    "containerDefinitions[web].environmentFiles[0].value: (sensitive value changed)",
    "containerDefinitions[web].secrets[API_KEY].valueFrom: (sensitive value changed)",
    "containerDefinitions[web].dockerLabels.com.example.api-token: (sensitive value changed)",
    "containerDefinitions[web].repositoryCredentials.credentialsParameter: "
    "(sensitive value changed)",
    "containerDefinitions[web].logConfiguration.options.apikey: (sensitive value changed)",
    "containerDefinitions[web].logConfiguration.secretOptions[DD_TOKEN].valueFrom: "
    "(sensitive value changed)",
    "tags[db-password].value: (sensitive value changed)",
)
"""What the plan from the old revision to the new one says about the planted values."""

PLANTED = {
    f"SENTINEL-{kind}-{side}"
    for kind in ("ENV", "FILE", "SECRET", "LABEL", "REPO", "LOGKEY", "LOGSECRET", "TAG")
    for side in ("OLD", "NEW")
} | {"SENTINEL-ENV-GONE", "SENTINEL-ENV-ADDED"}
"""Every sentinel of the two planted revisions."""


def planted_revision(d: Deployer, side: str) -> str:
    """A revision of ``web`` with a sentinel on every sensitive field; ``side`` (``OLD`` or
    ``NEW``) is in every sentinel, and each side has a variable the other lacks."""
    environment = [{"name": "DB_PASSWORD", "value": f"SENTINEL-ENV-{side}"}]
    environment.append(
        {"name": "GONE", "value": "SENTINEL-ENV-GONE"}
        if side == "OLD"
        else {"name": "ADDED", "value": "SENTINEL-ENV-ADDED"}
    )
    container = {
        "name": "web",
        "image": "public.ecr.aws/nginx/nginx:1.27" if side == "OLD" else "nginx:1.28",
        "essential": True,
        "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
        "environment": environment,
        "environmentFiles": [{"value": f"arn:aws:s3:::cfg/SENTINEL-FILE-{side}.env", "type": "s3"}],
        "secrets": [
            {
                "name": "API_KEY",
                "valueFrom": f"arn:aws:ssm:us-east-1:123456789012:parameter/SENTINEL-SECRET-{side}",
            }
        ],
        "dockerLabels": {"com.example.api-token": f"SENTINEL-LABEL-{side}", "team": "payments"},
        "repositoryCredentials": {
            "credentialsParameter": "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
            f"SENTINEL-REPO-{side}"
        },
        "logConfiguration": {
            "logDriver": "awsfirelens",
            "options": {"Name": "datadog", "apikey": f"SENTINEL-LOGKEY-{side}"},
            "secretOptions": [{"name": "DD_TOKEN", "valueFrom": f"SENTINEL-LOGSECRET-{side}"}],
        },
    }
    answer = d.ecs.register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        executionRoleArn="arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
        containerDefinitions=[container],
        tags=[
            {"key": "db-password", "value": f"SENTINEL-TAG-{side}"},
            {"key": "team", "value": "payments"},
        ],
    )
    return str(answer["taskDefinition"]["taskDefinitionArn"])


class Outputs:
    """Everything a user could read, by where it came from."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys
        self.seen: list[tuple[str, str]] = []

    def cli(self, *argv: str) -> tuple[int, str, str]:
        code, out, err = run_cli(self.capsys, *argv)
        self.seen += [(f"{' '.join(argv)} (stdout)", out), (f"{' '.join(argv)} (stderr)", err)]
        return code, out, err

    def value(self, label: str, value: Any) -> None:
        """``repr``, ``str`` and, when it has one, ``to_dict()`` of ``value``."""
        self.seen += [(f"repr({label})", repr(value)), (f"str({label})", str(value))]
        if hasattr(value, "to_dict"):
            self.seen.append((f"{label}.to_dict()", json.dumps(value.to_dict(), default=str)))

    def error(self, label: str, exc: BaseException) -> None:
        notes = "\n".join(getattr(exc, "__notes__", ()))
        self.seen += [(f"{label} error", f"{exc!r}\n{exc}\n{notes}")]

    def leaks(self, records: list[logging.LogRecord]) -> list[str]:
        """Where a sentinel was seen: the output's label, or the logger of a record."""
        found = {label for label, text in self.seen if SENTINEL in text}
        found |= {f"log record of {r.name}" for r in records if SENTINEL in r.getMessage()}
        return sorted(found)


def capture_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Capture every record of bluegreen's loggers, DEBUG included, and every other from
    INFO up. Left out: botocore's DEBUG records, among them its wire log of every request's
    and answer's body (the SDK's own, off unless an application turns it on: README,
    "Secrets stay out of output"), which would hold the values and cost seconds to capture."""
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="bluegreen")


@pytest.fixture
def outputs(
    bluegreen_sim: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    shared_models: None,
) -> Outputs:
    """The CLI's waits read (and advance) the simulator's clock; its commands' sessions share
    botocore's parsed models (``shared_models``)."""
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: bluegreen_sim.clock)
    return Outputs(capsys)


def test_plan_says_which_secrets_change_never_what_they_are_unless_asked(sim, outputs, caplog):
    capture_logs(caplog)
    d = Deployer.create(sim)
    old = planted_revision(d, "OLD")
    assert d.done(run_deploy(sim, task_definition=old).id) == "Succeeded"
    new = planted_revision(d, "NEW")

    code, text, _ = outputs.cli("plan", *SERVICE, "--task-definition", new)
    outputs.cli("plan", *SERVICE, "--task-definition", new, "--output", "json")
    outputs.cli("plan", *SERVICE, "--image", NEW_IMAGE)
    with_problems = outputs.cli("plan", *SERVICE, "--image", "nginx:latest", "--output", "json")
    refused_deploy = outputs.cli("deploy", *SERVICE, "--image", "public.ecr.aws/nginx/nginx:1.27")
    the_plan = run_plan(sim, task_definition=new)
    outputs.value("plan", the_plan)
    outputs.value("image plan", run_plan(sim, image=NEW_IMAGE))
    outputs.value("service state", discover("prod", "web", clients=sim.clients()))
    with pytest.raises(ServiceConfigError) as refused:
        run_deploy(sim, image="public.ecr.aws/nginx/nginx:1.27")
    outputs.error("deploy of the running image", refused.value)

    assert outputs.leaks(caplog.records) == []
    assert (code, with_problems[0], refused_deploy[0]) == (0, 2, 2)
    assert "already runs" in refused_deploy[2]
    for line in CHANGED:
        assert line in text
        assert line in the_plan.task_definition_diff
    assert "containerDefinitions[web].image: public.ecr.aws/nginx/nginx:1.27 -> nginx:1.28" in text
    document = the_plan.to_dict()
    assert document["values_shown"] is False
    container = document["new_task_definition"]["containerDefinitions"][0]
    assert container["environment"] == [
        {"name": "DB_PASSWORD", "value": MASK},
        {"name": "ADDED", "value": MASK},
    ]
    assert container["dockerLabels"] == {"com.example.api-token": MASK, "team": "payments"}

    # Asked for, the values are there: every sentinel was planted where the plan reads.
    _, shown, _ = run_cli(
        outputs.capsys, "plan", *SERVICE, "--task-definition", new, "--show-values"
    )
    _, out, _ = run_cli(
        outputs.capsys,
        "plan",
        *SERVICE,
        "--task-definition",
        new,
        "--show-values",
        "--output",
        "json",
    )
    assert shown.startswith("Values shown (--show-values)")
    assert (
        "containerDefinitions[web].environment[DB_PASSWORD].value: "
        "SENTINEL-ENV-OLD -> SENTINEL-ENV-NEW" in shown
    )
    assert next(iter(json.loads(out))) == "values_shown"
    assert json.loads(out)["values_shown"] is True
    assert set(re.findall(r"SENTINEL-[A-Z]+-[A-Z]+", out)) == PLANTED


def test_no_command_that_follows_or_controls_a_deployment_prints_a_secret(sim, outputs, caplog):
    capture_logs(caplog)
    d = Deployer.create(sim, ready_wait_minutes=30)
    first = run_deploy(sim, task_definition=planted_revision(d, "OLD"))
    first.wait(Milestone.READY)
    first.promote()
    assert first.wait().succeeded
    new = planted_revision(d, "NEW")
    json_output = ("--output", "json")

    commands = [
        ("deploy", *SERVICE, "--task-definition", new, "--until", "ready", *json_output),
        ("status", *SERVICE),
        ("status", *SERVICE, *json_output),
        ("inspect", *SERVICE),
        ("inspect", *SERVICE, *json_output),
        ("appspec", *SERVICE, "--task-definition", new),
        ("promote", *SERVICE),
        ("wait", *SERVICE, "--until", "termination_wait"),
        ("finish", *SERVICE, *json_output),
        ("wait", *SERVICE, *json_output),
        ("rollback", *SERVICE, "--until", "ready", *json_output),  # back to the OLD revision
        ("promote", *SERVICE, *json_output),
        ("wait", *SERVICE),
        ("deploy", *SERVICE, "--image", NEW_IMAGE, "--no-wait"),
        ("wait", *SERVICE, "--until", "ready"),
        ("abort", *SERVICE, *json_output),
        ("recover", *SERVICE),
        ("schedule", "CodeDeployDefault.ECSAllAtOnce"),
    ]
    codes = {" ".join(argv): outputs.cli(*argv)[0] for argv in commands}
    last = attach(sim, d.deploy(appspec=d.appspec(new)))
    outputs.value("deployment", last)
    outputs.value("snapshot", last.status())
    outputs.value("service state", discover("prod", "web", clients=sim.clients()))

    assert outputs.leaks(caplog.records) == []
    assert codes == dict.fromkeys(codes, 0)  # each ran to its end
