"""bluegreen.plan: the ``Plan`` value ``plan()`` returns, as text and as JSON."""

from __future__ import annotations

import json

from deploying import (
    NEW_IMAGE,
    Deployer,
    deployments,
    revisions,
    run_plan,
    writes,
)

CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
HOOK = "CodeDeployHook_check"


def test_plan_changes_nothing_and_shows_what_deploy_would_do(sim):
    d = Deployer.create(sim, deployment_config=CANARY, ready_wait_minutes=30)
    sim.register_hook(HOOK, d.reporting_hook())
    sim.register_hook("CodeDeployHook_prepare", d.reporting_hook())
    before_revisions, before_deployments = revisions(d), deployments(d)
    sim.calls.clear()

    the_plan = run_plan(
        sim,
        image=NEW_IMAGE,
        hooks={"AfterAllowTestTraffic": HOOK, "BeforeInstall": "CodeDeployHook_prepare"},
    )

    assert writes(sim) == []
    assert revisions(d) == before_revisions
    assert deployments(d) == before_deployments
    assert the_plan.ok, the_plan.problems
    assert the_plan.registers_task_definition
    assert the_plan.new_task_definition_arn.endswith(":task-definition/web:2")
    assert the_plan.schedule.total_minutes == 30 + 5 + 5
    text = str(the_plan)
    for expected in (
        "Plan: deploy to prod/web",
        "web:1 -> web:2",
        f"containerDefinitions[web].image: public.ecr.aws/nginx/nginx:1.27 -> {NEW_IMAGE}",
        "TaskDefinition: arn:aws:ecs:us-east-1:123456789012:task-definition/web:2",
        "ContainerName: web",
        "Traffic: CodeDeployDefault.ECSCanary10Percent5Minutes (canary 10% then the rest",
        "wait for promotion   up to 30 min",
        "total                up to 40 min",
        "BeforeInstall          CodeDeployHook_prepare",
        "AfterAllowTestTraffic  CodeDeployHook_check",
        "automatic on DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, DEPLOYMENT_STOP_ON_REQUEST "
        "(set by the deployment group)",
        "alarms that stop the deployment: web-5xx",
        "service/prod/web: 1-10 tasks, suspended: nothing",
        "deploy suspends scaling (in, out, scheduled) after recording the state above",
        "No problems found",
    ):
        assert expected in text, expected
    hooks = text[text.index("\nHooks:") :]
    assert hooks.index("BeforeInstall") < hooks.index("AfterAllowTestTraffic")  # run order
    assert the_plan.text(show_values=True).startswith("Values shown (show_values=True)")


def test_plan_to_dict_is_json_ready(sim):
    d = Deployer.create(sim)
    d.set_alarm("ALARM")

    document = json.loads(json.dumps(run_plan(sim, image=NEW_IMAGE, auto_rollback=False).to_dict()))

    assert document["values_shown"] is False
    assert document["ok"] is False
    assert document["task_definition_diff"] == [
        f"containerDefinitions[web].image: public.ecr.aws/nginx/nginx:1.27 -> {NEW_IMAGE}"
    ]
    assert document["appspec"]["Resources"][0]["TargetService"]["Properties"][
        "LoadBalancerInfo"
    ] == {"ContainerName": "web", "ContainerPort": 80}
    assert document["schedule"]["total_minutes"] == 5
    assert document["rollback"] == {"events": [], "overridden": True, "alarms": ["web-5xx"]}
    assert document["autoscaling"]["suspended_by_bluegreen"] is True
    assert document["autoscaling"]["suspends"] == ["in", "out", "scheduled"]
    assert document["autoscaling"]["targets"][0]["resource_id"] == "service/prod/web"
    assert "is in ALARM already" in document["problems"][0]
