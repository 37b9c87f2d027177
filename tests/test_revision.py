"""bluegreen.revision: the task-definition revision a deployment runs (only the images
changed) and the diff ``plan`` shows, on the simulator.
"""

from __future__ import annotations

import pytest
from deploying import (
    NEW_IMAGE,
    SECRET,
    TASK_ROLE,
    Deployer,
    described,
    register_rich_revision,
    revisions,
    run_deploy,
    run_plan,
    sent_appspec,
    serving,
)

from bluegreen import (
    ServiceConfigError,
)
from bluegreen.registration import RELEASE_TAG
from bluegreen.revision import diff

CANARY = "CodeDeployDefault.ECSCanary10Percent5Minutes"
HOOK = "CodeDeployHook_check"


def test_image_deploy_registers_a_revision_with_only_the_image_changed(sim):
    d = Deployer.create(sim)
    rich = register_rich_revision(d)
    serving(d, sim, rich)
    before, before_tags = described(d, rich)

    deployment = run_deploy(sim, image=NEW_IMAGE)

    new_arn = revisions(d)[-1]
    after, after_tags = described(d, new_arn)
    assert after["revision"] == before["revision"] + 1
    assert after["containerDefinitions"][0]["image"] == NEW_IMAGE
    assert [t for t in after_tags if t["key"] != RELEASE_TAG] == before_tags  # + the release's
    for key in ("taskDefinitionArn", "revision", "registeredAt"):
        before.pop(key, None)
        after.pop(key, None)
    before["containerDefinitions"][0]["image"] = NEW_IMAGE
    assert after == before  # secrets, environment, roles, volumes: all kept
    assert after["containerDefinitions"][0]["secrets"] == [
        {"name": "DB_PASSWORD", "valueFrom": SECRET}
    ]
    assert sent_appspec(d, deployment.id).task_definition == new_arn
    assert d.done(deployment.id) == "Succeeded"
    assert d.task_set("PRIMARY")["taskDefinition"] == new_arn


def test_image_mapping_sets_several_containers_and_leaves_the_others(sim):
    d = Deployer.create(sim)
    serving(d, sim, register_rich_revision(d, sidecar=True))

    run_deploy(
        sim,
        image={"web": NEW_IMAGE, "envoy": "public.ecr.aws/envoy/envoy:v1.31.0"},
    )

    images = {
        c["name"]: c["image"] for c in described(d, revisions(d)[-1])[0]["containerDefinitions"]
    }
    assert images == {"web": NEW_IMAGE, "envoy": "public.ecr.aws/envoy/envoy:v1.31.0"}


def test_single_image_goes_to_the_container_the_load_balancer_routes_to(sim):
    d = Deployer.create(sim)
    serving(d, sim, register_rich_revision(d, sidecar=True))

    the_plan = run_plan(sim, image=NEW_IMAGE)

    assert the_plan.ok, the_plan.problems
    assert the_plan.task_definition_diff == (
        f"containerDefinitions[web].image: public.ecr.aws/nginx/nginx:1.27 -> {NEW_IMAGE}",
    )


def test_task_definition_arn_is_deployed_without_registering_a_revision(sim):
    d = Deployer.create(sim)
    arn = d.register_revision(image=NEW_IMAGE)
    before = revisions(d)

    deployment = run_deploy(sim, task_definition=arn)

    assert revisions(d) == before
    assert sent_appspec(d, deployment.id).task_definition == arn
    assert d.done(deployment.id) == "Succeeded"
    assert d.task_set("PRIMARY")["taskDefinition"] == arn


def test_the_same_image_again_is_refused_with_the_way_to_redeploy(sim):
    d = Deployer.create(sim)

    with pytest.raises(ServiceConfigError) as caught:
        run_deploy(sim, image=d.env.image)

    (problem,) = caught.value.problems
    assert "already runs" in problem
    assert f"task_definition={d.env.task_definition_arn!r}" in problem
    assert revisions(d) == [d.env.task_definition_arn]


def test_redeploying_the_running_revision_by_arn_is_allowed_and_noted(sim):
    d = Deployer.create(sim)

    the_plan = run_plan(sim, task_definition=d.env.task_definition_arn)

    assert the_plan.ok
    assert not the_plan.registers_task_definition
    assert the_plan.task_definition_diff == ()
    assert any("revision the service runs now" in n for n in the_plan.notes)


def test_plan_diff_names_changed_environment_secrets_and_tags_by_name(sim):
    d = Deployer.create(sim)
    rich = register_rich_revision(d)
    serving(d, sim, rich)
    changed = dict(described(d, rich)[0])
    container = dict(changed["containerDefinitions"][0])
    container["environment"] = [{"name": "MODE", "value": "canary"}]
    container["secrets"] = []
    arn = d.ecs.register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="512",
        memory="512",
        taskRoleArn=TASK_ROLE,
        volumes=[{"name": "cache"}],
        containerDefinitions=[container],
        tags=[{"key": "team", "value": "checkout"}],
    )["taskDefinition"]["taskDefinitionArn"]

    the_plan = run_plan(sim, task_definition=arn)

    changes = the_plan.task_definition_diff
    assert "cpu: 256 -> 512" in changes
    assert "containerDefinitions[web].environment[MODE].value: (sensitive value changed)" in changes
    assert (
        "containerDefinitions[web].secrets[DB_PASSWORD].valueFrom: (sensitive value removed)"
        in changes
    )
    assert "tags[team].value: payments -> checkout" in changes
    assert 'tags[cost-center]: {"value": "42"} -> (none)' in changes
    assert (
        "executionRoleArn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole -> (none)" in changes
    )
    shown = the_plan.changes(show_values=True)
    assert "containerDefinitions[web].environment[MODE].value: production -> canary" in shown
    assert (
        f'containerDefinitions[web].secrets[DB_PASSWORD]: {{"valueFrom": "{SECRET}"}} -> (none)'
        in shown
    )


# -- the diff, on its own ---------------------------------------------------------------------

OLD = {
    "cpu": "256",
    "containerDefinitions": [
        {
            "name": "web",
            "image": "nginx:1.27",
            "environment": [
                {"name": "DB_PASSWORD", "value": "hunter2"},
                {"name": "GONE", "value": "old-only"},
            ],
            "dockerLabels": {"api-token": "t-old", "team": "payments"},
        }
    ],
    "tags": [{"key": "team", "value": "payments"}],
}
NEW = {
    "cpu": "512",
    "containerDefinitions": [
        {
            "name": "web",
            "image": "nginx:1.28",
            "environment": [
                {"name": "DB_PASSWORD", "value": "rotated"},
                {"name": "ADDED", "value": "new-only"},
            ],
            "secrets": [{"name": "API_KEY", "valueFrom": SECRET}],
            "dockerLabels": {"api-token": "t-new", "team": "checkout"},
        },
        {"name": "envoy", "image": "envoy:v1.30", "environment": [{"name": "Q", "value": "q"}]},
    ],
    "tags": [],
}


def test_diff_says_a_sensitive_value_was_added_removed_or_changed_never_what_it_is():
    assert list(diff(OLD, NEW)) == [
        "cpu: 256 -> 512",
        "containerDefinitions[web].image: nginx:1.27 -> nginx:1.28",
        "containerDefinitions[web].environment[DB_PASSWORD].value: (sensitive value changed)",
        "containerDefinitions[web].environment[GONE].value: (sensitive value removed)",
        "containerDefinitions[web].environment[ADDED].value: (sensitive value added)",
        "containerDefinitions[web].dockerLabels.api-token: (sensitive value changed)",
        "containerDefinitions[web].dockerLabels.team: payments -> checkout",
        "containerDefinitions[web].secrets[API_KEY].valueFrom: (sensitive value added)",
        # a container added whole: a line per field, its environment masked
        "containerDefinitions[envoy].image: (none) -> envoy:v1.30",
        "containerDefinitions[envoy].environment[Q].value: (sensitive value added)",
        'tags[team]: {"value": "payments"} -> (none)',  # [] is an empty named list
    ]


def test_diff_with_show_values_shows_the_values():
    shown = list(diff(OLD, NEW, show_values=True))

    assert "containerDefinitions[web].environment[DB_PASSWORD].value: hunter2 -> rotated" in shown
    assert 'containerDefinitions[web].environment[ADDED]: (none) -> {"value": "new-only"}' in shown
    assert "containerDefinitions[web].dockerLabels.api-token: t-old -> t-new" in shown
