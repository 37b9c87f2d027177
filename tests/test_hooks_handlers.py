"""The ready-made handlers (``bluegreen.hooks.handlers``, with thin files in hooks/) and the
``bluegreen hooks`` command: they import nothing heavy, verify a real HTTP server on 127.0.0.1
through the simulator end to end, run locally with ``bluegreen hooks invoke`` from any folder,
and package into a Lambda zip that imports without the project's environment."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from deploying import TERMINAL, Deployer

from bluegreen.cli import main
from bluegreen.cli.hooks import PROVIDED_BY_LAMBDA, load_handler
from bluegreen.hooks.handlers import READY_MADE, thin_handler_source

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / "hooks"
HANDLERS = sorted(p for p in HOOKS.glob("*.py") if not p.name.startswith("_"))
TEST_HOOK = "CodeDeployHook_verify_test_listener"
PRODUCTION_HOOK = "CodeDeployHook_verify_production"
NOT_AT_COLD_START = ("bluegreen.cli", "bluegreen.testing", "yaml", "moto", "rich", "click")


# -- a real listener on 127.0.0.1 -------------------------------------------------------


class Listener:
    """An HTTP server on 127.0.0.1 standing in for a load balancer listener; each answer is
    set by the test, and the first ``failures`` requests get 503 (a warming-up service)."""

    def __init__(self) -> None:
        self.status = 200
        self.body = json.dumps({"status": "ok", "version": "1.4.2"}).encode()
        self.headers = {"Content-Type": "application/json", "X-Release": "green"}
        self.failures = 0
        self.requests = 0
        self.lock = threading.Lock()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with listener.lock:
                    listener.requests += 1
                    warming = listener.requests <= listener.failures
                status = 503 if warming else listener.status
                self.send_response(status)
                for name, value in listener.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(listener.body)))
                self.end_headers()
                self.wfile.write(listener.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def listener(monkeypatch: pytest.MonkeyPatch) -> Iterator[Listener]:
    """The local listener, reached by both handlers through the URL override variables."""
    with Listener() as server:
        monkeypatch.setenv("BLUEGREEN_TEST_URL", server.url)
        monkeypatch.setenv("BLUEGREEN_PRODUCTION_URL", server.url)
        yield server


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Each handler file's ``handler``, imported as Lambda imports it (hooks/ on sys.path),
    and forgotten afterwards so every test imports afresh with its own environment."""
    monkeypatch.syspath_prepend(str(HOOKS))
    yield {path.stem: load_handler(path) for path in HANDLERS}
    forget_handlers()


def forget_handlers() -> None:
    """Drop the handler modules (thin and packaged) so the next import reads settings anew."""
    for name in [path.stem for path in HANDLERS]:
        sys.modules.pop(name, None)
    for name in [*READY_MADE, "_verify"]:
        sys.modules.pop(f"bluegreen.hooks.handlers.{name}", None)


def recording(handler: Any, results: list[dict[str, Any]]) -> Any:
    """``handler``, keeping what it returned."""

    def hook(event: dict[str, Any], context: Any) -> None:
        results.append(handler(event, context))

    return hook


def serving(d: Deployer) -> dict[str, int]:
    """The production listener's target groups that get traffic, with their weights."""
    return {name: weight for name, weight in d.traffic().items() if weight}


# -- cold start -----------------------------------------------------------------------


def test_the_handlers_are_the_gate_the_two_verify_hooks_and_the_scaling_safety_net():
    assert [path.stem for path in HANDLERS] == [
        "analysis_gate",
        "restore_scaling",
        "verify_production",
        "verify_test_listener",
    ]
    assert sorted(READY_MADE) == [path.stem for path in HANDLERS]


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: p.stem)
def test_each_file_in_hooks_is_the_thin_file_the_zip_carries(path):
    """hooks/ holds only thin files importing from the package, identical to what
    ``bluegreen hooks package`` writes, so the two never drift apart."""
    assert path.read_text() == thin_handler_source(path.stem)
    assert not (HOOKS / "_verify.py").exists()


@pytest.mark.parametrize("path", HANDLERS, ids=lambda p: p.stem)
def test_importing_a_handler_imports_no_cli_yaml_moto_or_terminal_ui(path):
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(HOOKS)!r})\n"
        f"import {path.stem}\n"
        f"assert callable({path.stem}.handler)\n"
        f"print(json.dumps([m for m in {list(NOT_AT_COLD_START)!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


# -- end to end on the simulator ----------------------------------------------------------


def test_passing_test_listener_check_lets_the_deployment_succeed(sim, listener, handlers):
    d = Deployer.create(sim)
    results: list[dict[str, Any]] = []
    sim.register_hook(TEST_HOOK, recording(handlers["verify_test_listener"], results))

    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": TEST_HOOK})

    assert d.done(deployment_id) == "Succeeded"
    assert d.events(deployment_id)["AfterAllowTestTraffic"] == "Succeeded"
    assert [r["status"] for r in results] == ["Succeeded"]
    assert results[0]["checks"][0]["tried"] == f"GET {listener.url}/"
    assert listener.requests == 1


def test_failing_test_listener_status_fails_the_deployment_and_rolls_back(sim, listener, handlers):
    listener.status = 500
    d = Deployer.create(sim)
    results: list[dict[str, Any]] = []
    sim.register_hook(TEST_HOOK, recording(handlers["verify_test_listener"], results))

    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": TEST_HOOK})

    assert d.done(deployment_id) == "Failed"
    assert d.events(deployment_id)["AfterAllowTestTraffic"] == "Failed"
    assert d.info(deployment_id)["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert d.status(d.rollback_of(deployment_id)) == "Succeeded"
    assert serving(d) == {d.env.target_group_names[0]: 100}
    assert [r["status"] for r in results] == ["Failed"]
    assert "status 500, wanted 200" in results[0]["reason"]


def test_passing_production_check_after_the_shift_lets_the_deployment_succeed(
    sim, listener, handlers
):
    d = Deployer.create(sim)
    results: list[dict[str, Any]] = []
    sim.register_hook(PRODUCTION_HOOK, recording(handlers["verify_production"], results))

    deployment_id = d.deploy(hooks={"AfterAllowTraffic": PRODUCTION_HOOK})

    assert d.done(deployment_id) == "Succeeded"
    assert [r["status"] for r in results] == ["Succeeded"]


def test_failing_production_check_fails_the_deployment_and_moves_traffic_back_to_blue(
    sim, listener, handlers
):
    listener.status = 503
    d = Deployer.create(sim)
    sim.register_hook(PRODUCTION_HOOK, handlers["verify_production"])

    deployment_id = d.deploy(hooks={"AfterAllowTraffic": PRODUCTION_HOOK})

    assert d.done(deployment_id) == "Failed"
    assert d.events(deployment_id)["AfterAllowTraffic"] == "Failed"
    assert d.status(d.rollback_of(deployment_id)) == "Succeeded"
    assert serving(d) == {d.env.target_group_names[0]: 100}


def test_every_configured_check_runs_against_the_listener(
    sim, listener, handlers, monkeypatch: pytest.MonkeyPatch
):
    for name, value in {
        "BLUEGREEN_CHECK_PATH": "health",
        "BLUEGREEN_EXPECT_JSON_FIELD": "status=ok",
        "BLUEGREEN_EXPECT_TEXT": "1.4.2",
        "BLUEGREEN_EXPECT_HEADER": "X-Release=green",
        "BLUEGREEN_LATENCY_P95_MS": "2000",
        "BLUEGREEN_LATENCY_REQUESTS": "5",
        "BLUEGREEN_BURST_REQUESTS": "12",
        "BLUEGREEN_BURST_CONCURRENCY": "4",
    }.items():
        monkeypatch.setenv(name, value)
    d = Deployer.create(sim)
    results: list[dict[str, Any]] = []
    sim.register_hook(TEST_HOOK, recording(handlers["verify_test_listener"], results))

    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": TEST_HOOK})

    assert d.done(deployment_id) == "Succeeded"
    checks = results[0]["checks"]
    assert [c["name"] for c in checks] == ["http", "latency", "burst"]
    assert all(c["ok"] for c in checks)
    assert checks[0]["tried"] == f"GET {listener.url}/health"
    assert listener.requests == 1 + 5 + 12


def test_wrong_json_field_fails_and_skips_the_load_checks(
    sim, listener, handlers, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BLUEGREEN_EXPECT_JSON_FIELD", 'version="2.0.0"')
    monkeypatch.setenv("BLUEGREEN_BURST_REQUESTS", "10")
    d = Deployer.create(sim)
    results: list[dict[str, Any]] = []
    sim.register_hook(TEST_HOOK, recording(handlers["verify_test_listener"], results))

    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": TEST_HOOK})

    assert d.done(deployment_id) == "Failed"
    assert [c["name"] for c in results[0]["checks"]] == ["http"]
    assert "JSON version is '1.4.2', wanted '2.0.0'" in results[0]["reason"]
    assert listener.requests == 1


def test_warmup_rides_out_a_service_that_fails_its_first_requests(
    sim, listener, handlers, monkeypatch: pytest.MonkeyPatch
):
    listener.failures = 2
    monkeypatch.setenv("BLUEGREEN_WARMUP_SECONDS", "10")
    monkeypatch.setenv("BLUEGREEN_WARMUP_INTERVAL", "0.05")
    d = Deployer.create(sim)
    results: list[dict[str, Any]] = []
    sim.register_hook(TEST_HOOK, recording(handlers["verify_test_listener"], results))

    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": TEST_HOOK})

    assert d.done(deployment_id) == "Succeeded"
    assert results[0]["checks"][0]["details"]["attempts"] == 3


def test_a_malformed_setting_fails_the_hook_with_a_report_naming_it(
    sim, listener, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("BLUEGREEN_EXPECT_STATUS", "two hundred")
    monkeypatch.setenv("BLUEGREEN_MARGIN_SECONDS", "soon")
    monkeypatch.syspath_prepend(str(HOOKS))
    try:
        handler = load_handler(HOOKS / "verify_test_listener.py")  # the import survives
    finally:
        forget_handlers()
    d = Deployer.create(sim)
    results: list[dict[str, Any]] = []
    sim.register_hook(TEST_HOOK, recording(handler, results))

    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": TEST_HOOK})

    assert d.done(deployment_id) == "Failed"
    reason = results[0]["reason"]
    assert "BLUEGREEN_EXPECT_STATUS='two hundred' is not a whole number" in reason
    assert "BLUEGREEN_MARGIN_SECONDS='soon' is not a number" in reason
    assert listener.requests == 0


# -- bluegreen hooks invoke ---------------------------------------------------------------


def waiting_at_after_allow_test_traffic(sim: Any) -> tuple[Deployer, str, str]:
    """A deployment whose AfterAllowTestTraffic hook was called and has not reported; returns
    the deployer, the deployment id and the hook's execution id."""
    d = Deployer.create(sim)
    calls: list[dict[str, Any]] = []
    sim.register_hook(TEST_HOOK, d.silent_hook(calls))
    deployment_id = d.deploy(hooks={"AfterAllowTestTraffic": TEST_HOOK})
    d.until_event(deployment_id, "AfterAllowTestTraffic", "InProgress")
    sim.advance(1)
    assert len(calls) == 1
    return d, deployment_id, calls[0]["LifecycleEventHookExecutionId"]


def test_invoke_runs_a_handler_file_with_the_real_event_and_reports_succeeded(
    sim, listener, capsys
):
    d, deployment_id, execution_id = waiting_at_after_allow_test_traffic(sim)

    code = main(
        [
            "hooks",
            "invoke",
            str(HOOKS / "verify_test_listener.py"),
            "--deployment-id",
            deployment_id,
            "--execution-id",
            execution_id,
        ]
    )

    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "Succeeded"
    assert result["checks"][0]["tried"] == f"GET {listener.url}/"
    assert d.done(deployment_id) == "Succeeded"


def test_invoke_exits_1_when_the_check_fails_and_the_deployment_fails(sim, listener, capsys):
    listener.status = 404
    d, deployment_id, execution_id = waiting_at_after_allow_test_traffic(sim)

    code = main(
        [
            "hooks",
            "invoke",
            str(HOOKS / "verify_test_listener.py"),
            "--deployment-id",
            deployment_id,
            "--execution-id",
            execution_id,
            "--function-timeout",
            "30",
        ]
    )

    assert code == 1
    assert json.loads(capsys.readouterr().out)["status"] == "Failed"
    assert d.done(deployment_id) == "Failed"


def test_invoke_without_an_execution_id_runs_the_checks_but_codedeploy_refuses_the_report(
    sim, listener, capsys
):
    _, deployment_id, _ = waiting_at_after_allow_test_traffic(sim)

    code = main(["hooks", "invoke", "verify_test_listener", "--deployment-id", deployment_id])

    captured = capsys.readouterr()
    assert code == 0  # the checks passed; only the made-up id's report was refused
    assert listener.requests == 1
    result = json.loads(captured.out)  # the checks' result comes first, on stdout
    assert result["status"] == "Succeeded"
    assert result["reported"] is False
    assert result["checks"][0]["tried"] == f"GET {listener.url}/"
    assert "InvalidLifecycleEventHookExecutionId" in result["report_error"]
    assert "--execution-id" in captured.err
    assert "LifecycleEventHookExecutionId of the event CodeDeploy sent" in captured.err


def test_invoke_without_an_execution_id_exits_1_when_the_checks_fail(sim, listener, capsys):
    listener.status = 500
    _, deployment_id, _ = waiting_at_after_allow_test_traffic(sim)

    code = main(["hooks", "invoke", "verify_test_listener", "--deployment-id", deployment_id])

    assert code == 1
    assert json.loads(capsys.readouterr().out)["status"] == "Failed"


def test_invoke_logs_the_check_lines_but_not_one_line_per_http_request(
    sim, listener, capsys, monkeypatch: pytest.MonkeyPatch
):
    """The kit's JSON lines reach stderr; the root logger stays as it was, so httpx and
    botocore add nothing (at INFO, httpx logs every request)."""
    import logging

    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    monkeypatch.setattr(logging.getLogger(), "level", logging.WARNING)
    _, deployment_id, _ = waiting_at_after_allow_test_traffic(sim)

    main(["hooks", "invoke", "verify_test_listener", "--deployment-id", deployment_id])

    err = capsys.readouterr().err
    assert logging.getLogger().level == logging.WARNING
    assert not logging.getLogger().handlers
    assert '"event": "check"' in err
    assert "HTTP Request" not in err
    assert "botocore" not in err


def test_invoke_with_a_real_execution_id_exits_4_after_printing_the_checks_when_the_report_fails(
    sim, listener, capsys
):
    """CodeDeploy refuses the report (here: no such deployment); the checks' result is
    shown first all the same."""
    code = main(
        [
            "hooks",
            "invoke",
            "verify_test_listener",
            "--deployment-id",
            "d-AAAAAAAAA",
            "--execution-id",
            "5f6e3a52-0000-4000-8000-000000000000",
        ]
    )

    captured = capsys.readouterr()
    assert code == 4
    result = json.loads(captured.out)
    assert result["checks"][0]["ok"] is True
    assert "DeploymentDoesNotExist" in result["report_error"]
    assert "the checks ran, but the report failed" in captured.err


def test_invoke_runs_a_ready_made_handler_by_name_from_any_folder(
    sim, listener, capsys, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)  # no hooks/ here
    d, deployment_id, execution_id = waiting_at_after_allow_test_traffic(sim)

    code = main(
        [
            "hooks",
            "invoke",
            "verify_test_listener",
            "--deployment-id",
            deployment_id,
            "--execution-id",
            execution_id,
        ]
    )

    assert code == 0
    assert json.loads(capsys.readouterr().out)["status"] == "Succeeded"
    assert d.done(deployment_id) == "Succeeded"


def test_invoke_names_the_ready_made_handlers_when_given_neither_one_nor_a_file(capsys):
    assert main(["hooks", "invoke", "verify_everything", "--deployment-id", "d-AAAAAAAAA"]) == 2
    err = capsys.readouterr().err
    assert "verify_test_listener, verify_production, restore_scaling" in err


def test_invoke_reaches_a_served_simulator_through_endpoint_url(listener, capsys):
    """``bluegreen sim serve``'s server, in this process at 600x real time: the stand-in
    hook keeps the execution id, and invoke reports through ``--endpoint-url``."""
    from bluegreen import AppSpec, discover
    from bluegreen.testing import Simulator

    calls: list[dict[str, Any]] = []
    with Simulator(speed=600.0).serve() as server:
        url = server.endpoint_url
        env = server.create_environment()
        server.simulator.register_hook(TEST_HOOK, lambda event, context: calls.append(event))
        d = Deployer(server.simulator, env, endpoint_url=url)
        state = discover(env.cluster, env.service, clients=server.simulator.clients(url))
        appspec = AppSpec.for_service(
            state, d.register_revision(), hooks={"AfterAllowTestTraffic": TEST_HOOK}
        )
        deployment_id = d.deploy(appspec=appspec)
        wait_until(lambda: bool(calls), "the hook to be called")

        code = main(
            [
                "hooks",
                "invoke",
                str(HOOKS / "verify_test_listener.py"),
                "--deployment-id",
                deployment_id,
                "--execution-id",
                calls[0]["LifecycleEventHookExecutionId"],
                "--endpoint-url",
                url,
            ]
        )

        assert code == 0
        assert json.loads(capsys.readouterr().out)["status"] == "Succeeded"
        wait_until(lambda: d.status(deployment_id) in TERMINAL, "the deployment to end")
        assert d.status(deployment_id) == "Succeeded"


def wait_until(condition: Any, what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {seconds:g} s waiting for {what}")
        time.sleep(0.05)


def test_invoke_refuses_a_file_that_is_not_a_handler(tmp_path, capsys):
    path = tmp_path / "nothing.py"
    path.write_text("x = 1\n")

    assert main(["hooks", "invoke", str(path), "--deployment-id", "d-X"]) == 2
    err = capsys.readouterr().err
    assert "has no callable 'handler'" in err
    assert "deployment id 'd-X' is not a CodeDeploy deployment id" in err  # both at once


# -- bluegreen hooks package --------------------------------------------------------------


def test_package_builds_a_zip_with_the_handlers_at_its_root_and_no_boto3(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys
):
    monkeypatch.chdir(tmp_path)  # any folder: the ready-made handlers ship in the package
    output = tmp_path / "hooks.zip"

    assert main(["hooks", "package", "--output", str(output)]) == 0

    archive = zipfile.ZipFile(output)
    names = archive.namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert {"verify_test_listener.py", "verify_production.py", "restore_scaling.py"} <= tops
    assert "bluegreen/hooks/handlers/_verify.py" in names
    assert archive.read("restore_scaling.py").decode() == thin_handler_source("restore_scaling")
    assert {"bluegreen", "httpx", "httpcore", "h11", "anyio", "idna", "certifi"} <= tops
    assert {"attr", "attrs", "tenacity"} <= tops
    assert "bluegreen/hooks/__init__.py" in names
    assert not {"boto3", "botocore", "s3transfer", "yaml", "rich", "moto"} & tops
    assert not [
        n
        for n in names
        if n.startswith(("bluegreen/cli/", "bluegreen/testing/", "bluegreen/demo/"))
        or n == "bluegreen/pytest_plugin.py"
        or n.startswith("bluegreen/iam")
    ]
    assert not [n for n in names if "__pycache__" in n]
    out = capsys.readouterr().out
    assert "verify_test_listener.handler" in out
    assert "verify_production.handler" in out
    assert "restore_scaling.hook_handler" in out
    assert f"wrote {output} (" in out


def test_package_adds_your_own_handler_beside_the_ready_made_ones(tmp_path, capsys):
    own = tmp_path / "mine"
    own.mkdir()
    (own / "smoke.py").write_text("from _shared import handler\n")
    (own / "_shared.py").write_text("def handler(event, context):\n    return {}\n")
    output = tmp_path / "hooks.zip"

    assert (
        main(["hooks", "package", "--output", str(output), "--handler", str(own / "smoke.py")]) == 0
    )

    tops = {name.split("/", 1)[0] for name in zipfile.ZipFile(output).namelist()}
    assert {"smoke.py", "_shared.py", "verify_test_listener.py"} <= tops
    assert "smoke.handler" in capsys.readouterr().out


def test_package_refuses_your_handler_with_a_ready_made_ones_name(tmp_path, capsys):
    clash = tmp_path / "verify_production.py"
    clash.write_text("def handler(event, context):\n    return {}\n")

    code = main(["hooks", "package", "--output", str(tmp_path / "x.zip"), "--handler", str(clash)])

    assert code == 2
    assert "--no-ready-made" in capsys.readouterr().err


def test_packaged_handlers_import_and_check_with_only_the_zip_and_the_lambda_runtime_sdk(
    tmp_path, monkeypatch: pytest.MonkeyPatch
):
    """Python without site-packages (-S), given the unzipped package and a folder holding
    only what Lambda's runtime provides (boto3 and its dependencies): the handlers import,
    the kit's dependencies come from the zip, and an HTTP check runs."""
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "hooks.zip"
    assert main(["hooks", "package", "--output", str(output)]) == 0
    unzipped = tmp_path / "task"
    zipfile.ZipFile(output).extractall(unzipped)
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    import boto3

    site_packages = Path(boto3.__file__).parent.parent
    provided = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six.py"}
    assert {"boto3", "botocore"} <= {name.replace("python-", "") for name in PROVIDED_BY_LAMBDA}
    for name in provided:
        if (site_packages / name).exists():
            (runtime / name).symlink_to(site_packages / name)
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(unzipped)!r}, {str(runtime)!r}]\n"
        "import verify_test_listener, verify_production, restore_scaling\n"
        "from bluegreen.hooks.handlers import _verify\n"
        "import httpx, attrs, tenacity, boto3\n"
        f"assert httpx.__file__.startswith({str(unzipped)!r}), httpx.__file__\n"
        f"assert boto3.__file__.startswith({str(runtime)!r}), boto3.__file__\n"
        "result = _verify.verify('http://127.0.0.1:9', _verify.Settings())[0]\n"
        "assert not result.ok and result.tried == 'GET http://127.0.0.1:9/', result\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_package_refuses_a_handler_that_is_not_a_python_file(tmp_path, capsys):
    code = main(["hooks", "package", "--output", str(tmp_path / "x.zip"), "--handler", "nope.txt"])

    assert code == 2
    assert "nope.txt is not a Python file" in capsys.readouterr().err
