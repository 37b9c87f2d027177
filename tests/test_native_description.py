"""bluegreen.native_description: an ECS-native deployment's description, kept as a tag on the
service (ECS's tag limits: keys 128, values 256 characters of a small alphabet, 50 tags),
written and read back through real boto3 clients against the simulator."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from bluegreen._aws import Caller
from bluegreen.errors import ServiceConfigError
from bluegreen.manifest import parse_marker, release_marker
from bluegreen.native_description import (
    KEEP,
    TAG_PREFIX,
    decode_value,
    description_for,
    description_tags,
    encode_value,
    record_description,
    recorded_for,
    tag_key,
)
from bluegreen.release_service import previous_task_definition
from bluegreen.testing import Simulator

ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/{family}:{revision}"
PREVIOUS = ARN.format(family="web", revision=6)
VALUE = re.compile(r"[A-Za-z0-9 _.:/=+\-@]{0,256}")
"""ECS's tag value alphabet (ASCII part) and length."""


def description(what: str = "registry.example.com/web:2.4.0", wave: str = "canary") -> str:
    return f"{release_marker('checkout-2026-12-e36382ce', wave)}: deploy of {what}; was {PREVIOUS}"


# -- keys and values -------------------------------------------------------------------------


def test_the_key_names_the_family_and_revision_of_an_arn_or_family_revision() -> None:
    assert tag_key(ARN.format(family="web", revision=7)) == "bluegreen:deployment:web:7"
    assert tag_key("web:7") == "bluegreen:deployment:web:7"


def test_a_family_too_long_for_ecs_128_character_keys_is_cut_with_a_hash_of_it() -> None:
    long_a, long_b = "a" * 200 + "x", "a" * 200 + "y"
    key_a = tag_key(ARN.format(family=long_a, revision=12345))
    key_b = tag_key(ARN.format(family=long_b, revision=12345))
    assert len(key_a) == 128
    assert key_a.endswith(":12345")
    assert key_a != key_b
    assert key_a == tag_key(f"{long_a}:12345")


def test_not_a_task_definition_revision_is_refused() -> None:
    with pytest.raises(ValueError, match="family:revision"):
        tag_key("web")


def test_the_value_escapes_what_ecs_refuses_and_reads_back_the_same_description() -> None:
    text = description("web=reg/web:2, sidecar=reg/envoy@sha256:" + "a" * 8) + " +100% ü"
    text = text.replace("; was", " +100% ü; was")
    written = dt.datetime(2026, 12, 2, 16, 22, 51, tzinfo=dt.UTC)
    value = encode_value(text, written)
    assert VALUE.fullmatch(value)
    assert "+3B was arn:aws:ecs:" in value  # the '; was <ARN>' part stays readable
    assert value.startswith("bluegreen release checkout-2026-12-e36382ce wave canary: deploy")
    read = decode_value(value)
    assert read.description == text
    assert read.written_at == written


def test_a_long_description_loses_the_middle_and_keeps_its_marker_and_previous_arn() -> None:
    text = description("web=" + "registry.example.com/" + "w" * 300 + ":2")
    value = encode_value(text, dt.datetime(2026, 12, 2, tzinfo=dt.UTC))
    assert len(value) <= 256
    assert VALUE.fullmatch(value)
    read = decode_value(value).description
    marker = parse_marker(read)
    assert marker is not None
    assert (marker.release, marker.wave) == ("checkout-2026-12-e36382ce", "canary")
    assert previous_task_definition(read) == PREVIOUS
    assert "...; was " in read


def test_a_value_without_time_reads_back_without_one() -> None:
    assert decode_value(encode_value("by hand")).written_at is None


def test_description_for_reads_ecs_tag_lists_and_mappings_and_ignores_other_tags() -> None:
    task_definition = ARN.format(family="web", revision=7)
    tags = [
        {"key": "team", "value": "checkout"},
        {"key": tag_key(task_definition), "value": encode_value(description())},
    ]
    assert description_for(tags, task_definition) == description()
    assert description_for({t["key"]: t["value"] for t in tags}, "web:7") == description()
    assert description_for(tags, "web:8") is None
    assert description_for(None, "web:7") is None
    assert list(description_tags(tags)) == [tag_key(task_definition)]


# -- on the simulator ------------------------------------------------------------------------


def _service(sim: Simulator, env: Any) -> dict[str, Any]:
    ecs = sim.clients().ecs
    return dict(
        ecs.describe_services(cluster=env.cluster, services=[env.native.service], include=["TAGS"])[
            "services"
        ][0]
    )


def _record(sim: Simulator, env: Any, revision: int, text: str, family: str = "web") -> str:
    service = _service(sim, env)
    return record_description(
        Caller(clock=sim.clock),
        sim.clients(),
        cluster=env.cluster,
        service=env.native.service,
        service_arn=service["serviceArn"],
        task_definition_arn=ARN.format(family=family, revision=revision),
        description=text,
    )


def test_a_recorded_description_is_read_back_from_the_services_tags_with_ecs_time() -> None:
    with Simulator() as sim:
        env = sim.create_environment(native=True)
        key = _record(sim, env, 7, description())
        tags = _service(sim, env)["tags"]
        assert key == "bluegreen:deployment:web:7"
        assert description_for(tags, ARN.format(family="web", revision=7)) == description()
        found = recorded_for(tags, "web:7")
        assert found is not None
        assert found.written_at is not None
        now = dt.datetime.fromtimestamp(sim.clock.time(), dt.UTC)
        assert abs((found.written_at - now).total_seconds()) < 2


def test_only_the_newest_description_tags_are_kept_and_the_users_tags_never_touched() -> None:
    with Simulator() as sim:
        env = sim.create_environment(native=True)
        arn = _service(sim, env)["serviceArn"]
        user = [{"key": f"user-{i}", "value": f"v{i}"} for i in range(5)]
        user.append({"key": "bluegreen:deployment-group", "value": "app/group"})
        sim.clients().ecs.tag_resource(resourceArn=arn, tags=user)
        _record(sim, env, 99, "old family", family="old")
        for revision in range(1, KEEP + 4):
            _record(sim, env, revision, f"revision {revision}")
        tags = {t["key"]: t["value"] for t in _service(sim, env)["tags"]}
        ours = sorted(int(k.rsplit(":", 1)[1]) for k in description_tags(tags))
        assert ours == list(range(4, KEEP + 4))  # the other family's went first
        assert {t["key"]: t["value"] for t in user}.items() <= tags.items()
        assert not [k for k in tags if k.startswith(TAG_PREFIX + "old:")]


def test_recording_the_same_revision_again_replaces_its_description() -> None:
    with Simulator() as sim:
        env = sim.create_environment(native=True)
        _record(sim, env, 7, "first")
        _record(sim, env, 7, "second")
        tags = _service(sim, env)["tags"]
        assert description_for(tags, "web:7") == "second"
        assert len(description_tags(tags)) == 1


def test_old_description_tags_make_room_under_ecs_50_tag_limit() -> None:
    with Simulator() as sim:
        env = sim.create_environment(native=True)
        arn = _service(sim, env)["serviceArn"]
        sim.clients().ecs.tag_resource(
            resourceArn=arn, tags=[{"key": f"user-{i}", "value": "v"} for i in range(45)]
        )
        for revision in range(1, 8):
            _record(sim, env, revision, f"revision {revision}")
        tags = _service(sim, env)["tags"]
        assert len(tags) == 50
        assert sorted(int(k.rsplit(":", 1)[1]) for k in description_tags(tags)) == [3, 4, 5, 6, 7]


def test_a_service_with_50_tags_of_its_own_is_refused_before_any_change() -> None:
    with Simulator() as sim:
        env = sim.create_environment(native=True)
        arn = _service(sim, env)["serviceArn"]
        user = [{"key": f"user-{i}", "value": "v"} for i in range(50)]
        sim.clients().ecs.tag_resource(resourceArn=arn, tags=user)
        with pytest.raises(ServiceConfigError, match="has 50 tags, ECS's limit is 50"):
            _record(sim, env, 7, description())
        assert len(_service(sim, env)["tags"]) == 50


def test_deploy_to_a_service_with_no_room_for_the_tag_deregisters_the_revision_it_registered():
    from bluegreen.deploying import deploy

    with Simulator() as sim:
        env = sim.create_environment(native=True)
        ecs = sim.clients().ecs
        arn = _service(sim, env)["serviceArn"]
        ecs.tag_resource(resourceArn=arn, tags=[{"key": f"u{i}", "value": "v"} for i in range(50)])
        family = env.native.task_definition_arn.rsplit("/", 1)[-1].split(":")[0]
        before = ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")[
            "taskDefinitionArns"
        ]

        with pytest.raises(ServiceConfigError, match="ECS's limit is 50"):
            deploy(
                env.cluster,
                env.native.service,
                image="public.ecr.aws/nginx/nginx:1.29",
                description="release r wave 1",
                clients=sim.clients(),
                clock=sim.clock,
            )

        after = ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")[
            "taskDefinitionArns"
        ]
        assert after == before  # the revision registered for it was deregistered
        calls = [op for *_, op in sim.api_calls("ecs")]
        assert "RegisterTaskDefinition" in calls
        assert "DeregisterTaskDefinition" in calls
        assert "UpdateService" not in calls
