"""docs/migrate.md's walk-through is true: its commands, read from the page, run in-process
against the simulator seeded as its ``bluegreen sim serve`` line seeds it (the endpoint
exports aside), each exits 0, and they do what the page says: the sample service migrates,
deploys a new image natively, and goes back to CodeDeploy on the target group then serving."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

import bluegreen.cli._clock
from bluegreen.cli import build_parser, main
from bluegreen.cli.sim import environment_options

PAGE = Path(__file__).resolve().parent.parent / "docs" / "migrate.md"
SECTION = "## Walk-through on the simulator"


def walk_through() -> list[list[str]]:
    """The ``$ bluegreen ...`` commands of the page's walk-through section, in order."""
    text = PAGE.read_text()
    section = text[text.index(SECTION) :]
    section = section[: section.find("\n## ", len(SECTION))]
    blocks = re.findall(r"```console\n(.*?)```", section, flags=re.DOTALL)
    commands = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            if line.startswith("$ bluegreen "):
                commands.append(shlex.split(line[2:])[1:])
    return commands


def test_the_walk_through_starts_the_simulator_and_exports_its_endpoint():
    commands = walk_through()
    text = PAGE.read_text()

    assert commands[0][:2] == ["sim", "serve"]
    assert "export BLUEGREEN_ENDPOINT_URL=http://127.0.0.1:5055" in text
    assert [c[:2] for c in commands[1:]] == [
        ["migrate", "plan"],
        ["migrate", "apply"],
        ["iam", "policy"],
        ["deploy", "--cluster"],
        ["wait", "--cluster"],
        ["migrate", "revert"],
        ["inspect", "--cluster"],
    ]


@pytest.fixture
def sim(bluegreen_sim: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(bluegreen.cli._clock, "_clock_factory", lambda: bluegreen_sim.clock)
    return bluegreen_sim


def test_the_walk_through_migrates_deploys_natively_and_reverts(sim, capsys):
    serve, *commands = walk_through()
    env = sim.create_environment(**environment_options(build_parser().parse_args(serve)))
    blue, green = env.target_group_arns
    outputs: dict[str, str] = {}
    for argv in commands:
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 0, (argv, out, err)
        outputs[" ".join(argv[:2])] = out

    # plan: the rules it would create, forwarding as the listeners do, and the next command
    assert (
        "Apply with: bluegreen migrate apply --cluster prod --service web"
        in outputs["migrate plan"]
    )
    assert "Migrated: prod/web deploys ECS-native now" in outputs["migrate apply"]
    # the policy, printed after the apply, names the created rules themselves
    policy = json.loads(outputs["iam policy"])
    rules = next(s for s in policy["Statement"] if s["Sid"] == "ModifyListenerRules")
    assert len(rules["Resource"]) == 2
    assert all(
        ":listener-rule/app/web-lb/" in r and not r.endswith("/*") for r in rules["Resource"]
    )
    assert "service-deployment/prod/web/" in outputs["deploy --cluster"]
    assert "Reverted: prod/web deploys through CodeDeploy again" in outputs["migrate revert"]

    clients = sim.clients()
    service = clients.ecs.describe_services(cluster="prod", services=["web"], include=["TAGS"])[
        "services"
    ][0]
    assert service["deploymentController"] == {"type": "CODE_DEPLOY"}
    assert not [t for t in service.get("tags", ()) if t["key"].startswith("bluegreen:migration")]
    [task_set] = service["taskSets"]
    assert task_set["status"] == "PRIMARY"
    # the native deployment moved production to green; revert kept it there
    assert task_set["loadBalancers"][0]["targetGroupArn"] == green
    for listener in (env.production_listener_arn, env.test_listener_arn):
        described = clients.elbv2.describe_rules(ListenerArn=listener)["Rules"]
        assert [r["IsDefault"] for r in described] == [True]
        [action] = described[0]["Actions"]
        forwarded = action.get("ForwardConfig", {}).get("TargetGroups") or [
            {"TargetGroupArn": action.get("TargetGroupArn")}
        ]
        assert {tg["TargetGroupArn"] for tg in forwarded if tg.get("Weight", 1)} == {green}
    roles = clients.client("iam").list_roles()["Roles"]
    assert "ecsInfrastructure-web" not in [r["RoleName"] for r in roles]
    assert blue != green
