"""``bluegreen sim serve --native``: the flags become the sample environment's native options,
wrong ones are one line naming the flag (before anything is served), and the description the
server prints shows the native service."""

from __future__ import annotations

import pytest

from bluegreen.cli import build_parser, main
from bluegreen.cli.sim import environment_options
from bluegreen.testing import Simulator


def _options(*argv: str) -> dict[str, object]:
    return environment_options(build_parser().parse_args(["sim", "serve", *argv]))


def test_without_native_the_options_are_the_codedeploy_samples_alone() -> None:
    options = _options()
    assert "native" not in options
    assert options["deployment_config"] == "CodeDeployDefault.ECSAllAtOnce"


def test_native_alone_seeds_web_native_and_a_name_names_it() -> None:
    assert _options("--native")["native"] is True
    assert _options("--native", "api")["native"] == "api"
    options = _options(
        "--native",
        "--native-strategy",
        "CANARY",
        "--native-percent",
        "10",
        "--native-step-minutes",
        "5",
        "--native-bake",
        "1",
    )
    assert {k: v for k, v in options.items() if k.startswith("native_")} == {
        "native_strategy": "CANARY",
        "native_percent": 10.0,
        "native_step_minutes": 5,
        "native_bake_minutes": 1,
    }


def test_the_options_make_the_environment_and_its_description_shows_the_native_service() -> None:
    options = _options("--native", "--native-strategy", "LINEAR", "--native-percent", "20")
    with Simulator() as sim:
        env = sim.create_environment(**options)
        text = env.describe()
    assert "native service     web-native (Fargate, ECS controller, LINEAR 20% every 6 min" in text
    assert "native production  arn:aws:elasticloadbalancing:" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--native-percent", "10"], "--native-percent needs --native"),
        (["--native", "--native-percent", "10"], "need --native-strategy CANARY or LINEAR"),
        (
            ["--native", "--native-strategy", "LINEAR", "--native-percent", "1"],
            "--native-percent must be between 3 and 100, not 1",
        ),
        (["--native", "--native-bake", "2000"], "--native-bake must be between 0 and 1440"),
        (["--native", "web"], "must not be web"),
        (["--native", "--no-seed"], "--native seeds a service in the sample: drop --no-seed"),
    ],
)
def test_wrong_native_flags_are_one_line_naming_the_flag(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sim", "serve", "--port", "0", *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err
