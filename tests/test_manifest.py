"""Loading a release manifest: the example, precedence, the release id, durations, the
analysis forms, and every problem of a file listed at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bluegreen._advice import set_audience
from bluegreen.analysis import DEFAULT_ANALYSIS
from bluegreen.errors import ValidationError
from bluegreen.manifest import FailurePolicy, release_marker
from bluegreen.manifest_load import format_duration, load_manifest, parse_duration

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "release.example.yaml"
ANALYSIS_FILE = Path(__file__).resolve().parent.parent / "docs" / "analysis.example.yaml"


def minimal(**top: Any) -> dict[str, Any]:
    """A manifest of one wave of one service, with ``top`` over its top-level keys."""
    data: dict[str, Any] = {
        "release": "shop",
        "waves": [
            {"name": "all", "services": [{"cluster": "prod", "service": "web", "image": "web:1"}]}
        ],
    }
    data.update(top)
    return data


def problems_of(manifest: Any, **kwargs: Any) -> tuple[str, ...]:
    with pytest.raises(ValidationError) as raised:
        load_manifest(manifest, **kwargs)
    return raised.value.problems


# -- the example and what a file holds ---------------------------------------------------------


def test_the_documented_example_loads_three_waves_with_settings_resolved() -> None:
    manifest = load_manifest(EXAMPLE)

    assert manifest.name == "checkout-2026-12"
    assert manifest.id.startswith("checkout-2026-12-")
    assert manifest.on_failure is FailurePolicy.ROLLBACK
    assert manifest.source == str(EXAMPLE)
    canary, core, rest = manifest.waves
    assert [s.name for s in canary.services] == ["eu-west-1:prod/web"]
    assert (core.concurrency, core.bake, len(core.services), core.width) == (2, 600.0, 3, 2)
    assert (rest.concurrency, rest.bake) == (None, 0.0)
    payments = core.services[2]
    assert payments.name == "us-east-1:prod/payments"
    assert payments.role == "arn:aws:iam::210987654321:role/bluegreen-deployer"
    assert payments.account == (payments.role, "us-east-1")
    assert payments.suspend_scaling == ("in",)
    assert core.services[1].image == {
        "app": "registry.example.com/checkout:2.4.0",
        "envoy": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.6.0-prod",
    }
    web = canary.services[0]
    assert web.analysis is DEFAULT_ANALYSIS
    assert web.analysis_source == "default"
    assert web.hooks == {"AfterAllowTestTraffic": "CodeDeployHook_smoke_web"}
    assert web.timeout == 3600.0
    search, worker = rest.services
    assert (search.analysis, search.analysis_source) == (None, None)
    assert worker.task_definition is not None
    assert worker.image is None
    assert worker.auto_rollback == ("DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM")
    assert worker.deploy_arguments()["auto_rollback"] == worker.auto_rollback


def test_settings_take_service_over_wave_over_defaults() -> None:
    data = {
        "release": "shop",
        "defaults": {
            "cluster": "prod",
            "region": "eu-west-1",
            "traffic_config": "CodeDeployDefault.ECSAllAtOnce",
            "hooks": {"AfterInstall": "defaults-hook"},
            "check_hooks": False,
            "image": "registry.example.com/base:1",
        },
        "waves": [
            {
                "name": "one",
                "region": "us-east-1",
                "hooks": {"BeforeAllowTraffic": "wave-hook"},
                "services": [
                    {"service": "a"},
                    {
                        "service": "b",
                        "region": "ap-southeast-2",
                        "cluster": "other",
                        "hooks": {"AfterAllowTraffic": "service-hook"},
                    },
                    {"service": "c", "task_definition": "arn:aws:ecs:us-east-1:1:td/c:3"},
                    {"service": "d", "hooks": None, "check_hooks": None},
                ],
            },
            {"name": "two", "services": [{"service": "a", "image": "registry.example.com/a:2"}]},
        ],
    }

    one, two = load_manifest(data).waves
    a, b, c, d = one.services

    assert (a.cluster, a.region, a.image, a.check_hooks) == (
        "prod",
        "us-east-1",
        "registry.example.com/base:1",
        False,
    )
    assert a.hooks == {"BeforeAllowTraffic": "wave-hook"}  # replaced whole, never merged
    assert a.traffic_config == "CodeDeployDefault.ECSAllAtOnce"
    assert (b.cluster, b.region) == ("other", "ap-southeast-2")
    assert b.hooks == {"AfterAllowTraffic": "service-hook"}
    # image and task_definition are one setting: the service's task definition replaces
    # the image of defaults (no "both given" problem)
    assert (c.image, c.task_definition) == (None, "arn:aws:ecs:us-east-1:1:td/c:3")
    # null: the setting's own default, whatever the wave and defaults say
    assert (d.hooks, d.check_hooks) == (None, True)
    assert two.services[0].name == "eu-west-1:prod/a"  # same service, another region: fine


def test_yaml_anchors_may_live_under_x_keys_and_merge_into_services(tmp_path: Path) -> None:
    path = tmp_path / "release.yaml"
    path.write_text(
        "release: shop\n"
        "x-common: &common {cluster: prod, region: eu-west-1}\n"
        "waves:\n"
        "  - name: one\n"
        "    services:\n"
        "      - <<: *common\n"
        "        service: web\n"
        "        region: us-east-1\n"
        "        image: web:1\n"
    )

    (service,) = load_manifest(path).services

    assert service.name == "us-east-1:prod/web"  # a key next to the merge wins, no problem


def test_json_file_and_mapping_load_the_same_manifest_as_yaml(tmp_path: Path) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    json_file = tmp_path / "release.json"
    json_file.write_text(json.dumps(data, indent="\t"))

    from_yaml = load_manifest(EXAMPLE)
    from_json = load_manifest(json_file)
    from_mapping = load_manifest(data)

    assert from_json.id == from_yaml.id == from_mapping.id
    assert from_json.services == from_yaml.services == from_mapping.services
    assert (from_json.source, from_mapping.source) == (str(json_file), None)
    assert load_manifest(data, source="releases/x.yaml").source == "releases/x.yaml"


def test_release_id_is_stable_for_the_same_content_and_changes_with_an_image() -> None:
    first, again = load_manifest(minimal()), load_manifest(minimal())
    changed = minimal()
    changed["waves"][0]["services"][0]["image"] = "web:2"
    fixed = load_manifest(minimal(id="shop-fixed-1"))

    assert first.id == again.id
    assert first.id.startswith("shop-")
    assert len(first.id) == len("shop-") + 8
    assert load_manifest(changed).id != first.id
    assert fixed.id == "shop-fixed-1"
    assert release_marker(fixed.id, "all") == "bluegreen release shop-fixed-1 wave all"


# -- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        (90, 90.0),
        (1.5, 1.5),
        (0, 0.0),
        ("90", 90.0),
        ("90s", 90.0),
        ("5m", 300.0),
        ("2.5m", 150.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("1h30m15s", 5415.0),
        ("1H30M", 5400.0),
        (" 10m ", 600.0),
    ],
)
def test_parse_duration_reads_seconds_and_hours_minutes_seconds(
    written: object, seconds: float
) -> None:
    assert parse_duration(written) == seconds


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (-5, "-5 is negative"),
        ("-5m", "'-5m' is negative"),
        ("5 minutes", "'5 minutes' is not a duration"),
        ("30m1h", "'30m1h' is not a duration"),
        ("", "'' is not a duration"),
        ("h", "'h' is not a duration"),
        (True, "not bool True"),
        ([5], "not list [5]"),
        (float("nan"), "nan is not a duration"),
    ],
)
def test_parse_duration_refuses_garbage_and_negatives_saying_what_to_write(
    written: object, message: str
) -> None:
    with pytest.raises(ValueError, match="'90s', '5m', '1h' or '1h30m'") as raised:
        parse_duration(written)
    assert message in str(raised.value)


@given(st.integers(min_value=0, max_value=10**8))
def test_format_duration_of_whole_seconds_reads_back_the_same(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.integers(min_value=0, max_value=10**9))
def test_format_duration_of_milliseconds_reads_back_to_the_millisecond(millis: int) -> None:
    assert round(parse_duration(format_duration(millis / 1000)) * 1000) == millis


def test_format_duration_uses_the_fewest_units() -> None:
    assert [format_duration(s) for s in (0, 90, 300, 3600, 5400, 5415.5)] == [
        "0s",
        "1m30s",
        "5m",
        "1h",
        "1h30m",
        "1h30m15.5s",
    ]


# -- analyses -----------------------------------------------------------------------------------


def test_analysis_forms_default_file_relative_to_the_manifest_and_inline(tmp_path: Path) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "web.yaml").write_text(ANALYSIS_FILE.read_text())
    manifest_file = tmp_path / "release.yaml"
    manifest_file.write_text(
        yaml.safe_dump(
            {
                "release": "shop",
                "defaults": {"cluster": "prod", "analysis": {"failure_limit": 3}},
                "waves": [
                    {
                        "name": "one",
                        "services": [
                            {"service": "a", "image": "a:1", "analysis": "default"},
                            {"service": "b", "image": "b:1", "analysis": "checks/web.yaml"},
                            {"service": "c", "image": "c:1", "analysis": "checks/web.yaml"},
                            {"service": "d", "image": "d:1"},
                            {"service": "e", "image": "e:1"},
                        ],
                    }
                ],
            }
        )
    )

    a, b, c, d, e = load_manifest(manifest_file).services

    assert (a.analysis, a.analysis_source) == (DEFAULT_ANALYSIS, "default")
    assert b.analysis_source == "checks/web.yaml"
    assert b.analysis is not None
    assert b.analysis.failure_limit == 2
    assert b.analysis is c.analysis  # one file, read once
    assert d.analysis_source == "inline"
    assert d.analysis is not None
    assert d.analysis.failure_limit == 3
    assert d.analysis is e.analysis  # written once in defaults, loaded once, shared


def test_analysis_path_of_a_mapping_starts_from_its_source_directory(tmp_path: Path) -> None:
    (tmp_path / "web.yaml").write_text("failure_limit: 4\n")
    data = minimal()
    data["waves"][0]["services"][0]["analysis"] = "web.yaml"

    service = load_manifest(data, source=str(tmp_path / "release.yaml")).services[0]

    assert service.analysis is not None
    assert service.analysis.failure_limit == 4
    assert "cannot read it" in problems_of(data)[0]  # no source: the current directory


def test_bad_analyses_are_reported_with_where_they_are(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("window: 61\n")
    data = {
        "release": "shop",
        "defaults": {"cluster": "prod", "analysis": {"interval": 0, "metrics": [{"name": "x"}]}},
        "waves": [
            {
                "name": "one",
                "services": [
                    {"service": "a", "image": "a:1"},
                    {"service": "b", "image": "b:1", "analysis": "bad.yaml"},
                    {"service": "c", "image": "c:1", "analysis": "gone.yaml"},
                    {"service": "d", "image": "d:1", "analysis": 7},
                ],
            }
        ],
    }

    problems = problems_of(data, source=str(tmp_path / "release.yaml"))

    assert "defaults: analysis: interval: 0 must be seconds, more than 0" in problems
    assert any(p.startswith("defaults: analysis: metrics[0].metric: ") for p in problems)
    assert f"waves[0] (one).services[1] (prod/b): analysis: file {tmp_path / 'bad.yaml'}: " + (
        "window: 61 must be whole minutes"
    ) in "\n".join(problems)
    assert any(
        p.startswith(f"waves[0] (one).services[2] (prod/c): analysis: file {tmp_path}")
        and "cannot read it" in p
        for p in problems
    )
    assert any(
        p.startswith("waves[0] (one).services[3] (prod/d): analysis: give default, the path")
        for p in problems
    )
    # the defaults' analysis is reported once, not once per service that takes it
    assert sum("interval: 0" in p for p in problems) == 1


# -- every problem at once -------------------------------------------------------------------------

BAD = """\
release: "bad name!"
on_failure: explode
colour: blue
defaults:
  region: eu-west
  role: arn:aws:iam::12:role/x
  concurrency: 3
  imgae: foo
waves:
  - name: canary
    concurrency: 0
    bake: -5m
    service: web
    services:
      - cluster: prod
        service: web
        image: "registry.example.com/web:"
        task_definition: arn:aws:ecs:eu-west-1:1:task-definition/x:1
      - cluster: prod
        service: api
        hooks: {AfterAllowTestTrafic: fn, BeforeInstall: ""}
        auto_rollback: [DEPLOYMENT_FAILURE, NOPE]
        suspend_scaling: "in,sideways"
        traffic_config: CodeDeployDefault.ECSCanary10Percent5Minute
        timeout: soon
        image: api:1
        application: app
        check_hooks: "yes"
        allow_mutable_image_tags: 1
  - name: canary
    services: []
  - name: rest
    bake: 1h30x
    concurrency: two
    services:
      - cluster: prod
        service: web
        image: web:1
      - cluster: prod
        service: worker
        image: worker:1
        image: worker:2
      - "just a string"
      - service: nocluster
        timeout: 0
        region: 2
  - name: 2026
    services: [{cluster: prod, service: x, image: x:1, on: true}]
"""

EXPECTED = [
    "line 42: key 'image' is given twice in one mapping",
    "'colour': unknown key in the release; the keys are release, id, on_failure, defaults, waves",
    "release: 'bad name!' is not a release name: give 1 to 64 letters",
    "it goes into the description of every deployment the release creates",
    "on_failure: str 'explode' is not a failure policy: give stop",
    "defaults: concurrency: belongs to a wave (under waves), not in defaults",
    "defaults: 'imgae': unknown key in defaults; did you mean 'image'?",
    "defaults: region: 'eu-west' is not a region name: give one such as eu-west-1",
    "defaults: role: str 'arn:aws:iam::12:role/x' is not an IAM role ARN",
    "waves[0] (canary): service: names one service, so it belongs in a service entry",
    "waves[0] (canary): concurrency: give a whole number, 1 or more",
    "waves[0] (canary): bake: '-5m' is negative",
    "waves[0] (canary).services[0] (prod/web): image: 'registry.example.com/web:': empty tag",
    "waves[0] (canary).services[0] (prod/web): give image or task_definition, not both",
    "waves[0] (canary).services[1] (prod/api): hooks: 'AfterAllowTestTrafic' is not a "
    "lifecycle event that takes a hook; did you mean 'AfterAllowTestTraffic'?",
    "waves[0] (canary).services[1] (prod/api): hooks: 'BeforeInstall': give a Lambda function",
    "waves[0] (canary).services[1] (prod/api): auto_rollback: unknown rollback events 'NOPE'",
    "waves[0] (canary).services[1] (prod/api): suspend_scaling: unknown kinds of scaling "
    "'sideways'",
    "waves[0] (canary).services[1] (prod/api): traffic_config: "
    "'CodeDeployDefault.ECSCanary10Percent5Minute' is not one of AWS's predefined ECS configs; "
    "did you mean 'CodeDeployDefault.ECSCanary10Percent5Minutes'?",
    "waves[0] (canary).services[1] (prod/api): timeout: 'soon' is not a duration",
    "waves[0] (canary).services[1] (prod/api): give application and deployment_group together",
    "waves[0] (canary).services[1] (prod/api): check_hooks: must be true or false, got str 'yes'",
    "waves[0] (canary).services[1] (prod/api): allow_mutable_image_tags: must be true or false",
    "waves[1] (canary): name: 'canary' is also the name of waves[0]",
    "waves[1] (canary): services: the wave has no services",
    "waves[2] (rest): bake: '1h30x' is not a duration",
    "waves[2] (rest): concurrency: give a whole number, 1 or more (how many of the wave's "
    "services deploy at once), got str 'two'",
    "waves[2] (rest).services[0] (prod/web): prod/web is already released by "
    "waves[0] (canary).services[0] (prod/web): a service appears once in a release",
    "waves[2] (rest).services[2]: give a mapping with cluster:, service: and image:",
    "waves[2] (rest).services[3]: cluster: missing: give the ECS cluster",
    "waves[2] (rest).services[3]: give image (a new image",
    "waves[2] (rest).services[3]: timeout: 0 would give up at once",
    "waves[2] (rest).services[3]: region: must be a region name such as eu-west-1 (a string), "
    "got int 2",
    "waves[3]: name: int 2026 (YAML reads it as a number: put it in quotes) is not a wave name",
    "waves[3].services[0] (prod/x): key bool True: keys are names",
]


def test_every_problem_of_the_file_is_reported_at_once_with_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)

    with pytest.raises(ValidationError) as raised:
        load_manifest(path)

    error = raised.value
    assert error.subject == str(path)
    assert str(error).startswith(f"{path} is invalid ({len(error.problems)} problems):")
    text = "\n".join(error.problems)
    missing = [expected for expected in EXPECTED if expected not in text]
    assert missing == []
    assert len(error.problems) == len(EXPECTED) - 1  # two expectations are of one problem


def test_problems_speak_of_the_file_keys_even_on_the_command_line() -> None:
    data = minimal()
    data["waves"][0]["services"][0].update(image="web:", hooks=[1])
    previous = set_audience("cli")
    try:
        problems = problems_of(data)
    finally:
        set_audience(previous)

    assert not any("--" in p or "=" in p.split(":")[2] for p in problems)
    assert problems[0].startswith("waves[0] (all).services[0] (prod/web): image: 'web:'")


def test_a_service_twice_in_one_region_is_refused_but_not_in_two_regions() -> None:
    twice = minimal()
    twice["waves"][0]["services"] *= 2
    other_region = minimal()
    services = other_region["waves"][0]["services"]
    services.append({**services[0], "region": "us-east-1"})

    assert problems_of(twice) == (
        "waves[0] (all).services[1] (prod/web): prod/web is already released by "
        "waves[0] (all).services[0] (prod/web): a service appears once in a release; "
        "remove one of them",
    )
    assert len(load_manifest(other_region).services) == 2


def test_long_or_secret_looking_values_are_cut_in_problems() -> None:
    secret = "s3cr3t-" + "x" * 200
    data = minimal(defaults={"role": secret, "hooks": {"AfterInstall": {"token": secret}}})

    problems = problems_of(data)

    assert len(problems) == 2
    assert all(secret not in p and "x" * 40 not in p for p in problems)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"release": "x"}, "waves: missing: give a list of waves"),
        (
            {"waves": minimal()["waves"]},
            "release: missing: give the release name, e.g. release: checkout-2026-12",
        ),
        (minimal(release="r" * 60), "release: 'rrrr"),
        (minimal(id="has space"), "id: 'has space' is not a release id"),
        (minimal(defaults=[1]), "defaults: give a mapping of service settings"),
        (minimal(waves="canary"), "waves: give a list of waves, got str 'canary'"),
        (minimal(region="eu-west-1"), "region: is a service setting: give it under defaults"),
        (minimal(services=[]), "services: belongs to a wave (under waves), not in the release"),
        (minimal(relase="x"), "'relase': unknown key in the release; did you mean 'release'?"),
    ],
)
def test_the_top_of_the_file_is_checked(data: Any, problem: str) -> None:
    assert any(p.startswith(problem) for p in problems_of(data))


def test_on_failure_is_stop_unless_the_file_says_rollback() -> None:
    assert load_manifest(minimal()).on_failure is FailurePolicy.STOP
    assert load_manifest(minimal(on_failure=None)).on_failure is FailurePolicy.STOP
    assert load_manifest(minimal(on_failure="rollback")).on_failure is FailurePolicy.ROLLBACK


def test_a_long_release_name_without_an_id_leaves_room_for_the_id() -> None:
    (problem,) = problems_of(minimal(release="r" * 60))

    assert "the release id adds '-<8 hex digits>' and must stay within 64" in problem
    assert load_manifest(minimal(release="r" * 60, id="short")).id == "short"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("release: [unclosed\n", "not well-formed YAML at line 2, column 1:"),
        ("", "the file is empty: give release: and waves:"),
        ("- 1\n", "give a mapping with release: and waves: at the top (docs/release.md), got list"),
        ('{"release": "a", "release": "b"}', "key 'release' is given twice in one mapping"),
        ('{"release": ', "not well-formed JSON at line 1, column 13:"),
    ],
)
def test_unreadable_files_say_where(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "release.yaml"
    path.write_text(text)

    assert any(p.startswith(problem) for p in problems_of(path))


def test_a_source_neither_path_nor_mapping_is_refused() -> None:
    assert problems_of([1]) == (
        "give the path of a manifest file or its data as a mapping, not list [1]",
    )


def test_a_missing_file_says_it_cannot_be_read(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path / "nope.yaml")

    assert problem.startswith("cannot read it (No such file or directory)")


def test_the_problems_shown_in_the_docs_are_what_the_loader_says(tmp_path: Path) -> None:
    docs = (EXAMPLE.parent / "release.md").read_text()
    block = docs.split("release.yaml is invalid (3 problems):\n", 1)[1].split("```", 1)[0]
    documented = [line.removeprefix("  - ") for line in block.splitlines() if line]
    path = tmp_path / "release.yaml"
    path.write_text(
        "release: shop\n"
        "defaults: {cluster: prod, imgae: x}\n"
        "waves:\n"
        "  - {name: canary, bake: -5m, services: [{service: web, image: 'web:1'}]}\n"
        "  - name: rest\n"
        "    services:\n"
        "      - {service: search, image: 'search:1'}\n"
        "      - {service: api, image: 'registry.example.com/api:'}\n"
    )

    assert list(problems_of(path)) == documented


def test_a_manifests_text_loads_as_its_file_does_duplicate_keys_included() -> None:
    from bluegreen.manifest_load import load_manifest_text

    text = (
        "release: shop\n"
        "waves:\n"
        "  - name: only\n"
        "    services:\n"
        "      - {cluster: prod, service: web, image: 'registry.example.com/web:2'}\n"
    )
    loaded = load_manifest_text(text, "shop.yaml")
    assert [s.name for s in loaded.services] == ["prod/web"]
    assert loaded.source == "shop.yaml"

    with pytest.raises(ValidationError) as raised:
        load_manifest_text(text + "release: other\n", "shop.yaml")
    assert any("given twice" in p for p in raised.value.problems), raised.value.problems
