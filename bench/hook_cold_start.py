"""A hook's cold start, end to end: from just before the handler's import to CodeDeploy's
answer to its one ``PutLifecycleEventHookExecutionStatus``, against hand-written hooks that
do the same with the same libraries.

Run by hand (never in CI):
``python bench/hook_cold_start.py [ROUNDS] [--compare DIR] [--bytecode-as-is]``
(ROUNDS defaults to 31). ``--compare DIR`` adds a row for another copy of bluegreen (DIR holds
its ``bluegreen`` package and its ``hooks/`` folder, e.g. a checkout of an older commit), run
with ``PYTHONPATH=DIR``, to measure a change against what it replaced in the same run.

The bench process serves, on 127.0.0.1, a web app (``GET /`` answers 200 with a small JSON
body) and a stub of CodeDeploy that answers ``PutLifecycleEventHookExecutionStatus`` as the
JSON protocol does (``{}``) and counts the reports. Each sample is a fresh ``python -c``
process (fake credentials, ``AWS_ENDPOINT_URL`` pointing at the stub: no AWS is reached) that
imports a handler, calls it once with a CodeDeploy event and no context, and prints two
instants of the system-wide monotonic clock: just before the import, and when the handler
returned (the report answered). The bench also notes when it started the process, so each
row has

* ``import -> report``: from just before the import to the report's answer;
* ``spawn -> report``: the same from the process's start (the interpreter's start-up, the
  same for every row, included);
* ``CPU import -> report``: the CPU time the process spent (all threads) from just before
  the import to the report's answer, which waiting for a busy core does not inflate.

Every module's bytecode is cached (``PYTHONPYCACHEPREFIX``, filled by a warm-up round), as it
is for the Lambda runtime's own boto3 and for a zip that carries ``.pyc`` files.
``--bytecode-as-is`` leaves the environment's own caching alone instead (where
``PYTHONDONTWRITEBYTECODE`` is set, an editable checkout's modules are compiled in every
process while installed packages have their ``.pyc``).

Rows (each checks the app with one ``GET /`` and reports once):

* ``urllib + boto3``: a hand-written handler, ``urllib.request`` then a boto3 client;
* ``httpx + boto3``: the same with ``httpx.get``, the libraries the kit uses;
* ``kit: verify_test_listener``: the ready-made handler, imported as Lambda does (``hooks/``
  first on ``sys.path``), ``BLUEGREEN_TEST_URL`` set to the app;
* ``kit: own @lifecycle_hook``: a handler written with the kit, ``checks.http`` on the app.

The rows take turns, round after round, so a busy spell of this shared machine hits them all
alike. Every sample must report exactly once and ``Succeeded``, or the bench stops.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / "hooks"
DEFAULT_ROUNDS = 31
EVENT = {"DeploymentId": "d-BENCH0001", "LifecycleEventHookExecutionId": "bench-execution"}

URLLIB_BOTO3 = """
import json, os, urllib.request
import boto3

def handler(event, context=None):
    status = "Failed"
    try:
        with urllib.request.urlopen(os.environ["APP_URL"] + "/", timeout=5) as response:
            if response.status == 200:
                status = "Succeeded"
    except Exception as exc:
        print(json.dumps({"error": str(exc)}))
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )
    return {"status": status}
"""

HTTPX_BOTO3 = """
import json, os
import boto3, httpx

def handler(event, context=None):
    status = "Failed"
    try:
        if httpx.get(os.environ["APP_URL"] + "/", timeout=5).status_code == 200:
            status = "Succeeded"
    except Exception as exc:
        print(json.dumps({"error": str(exc)}))
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )
    return {"status": status}
"""

KIT_OWN = """
import os
from bluegreen.hooks import checks, lifecycle_hook

@lifecycle_hook
def handler(event):
    return checks.http(os.environ["APP_URL"], path="/")
"""

KIT_READY_MADE = "from verify_test_listener import handler\n"

ROWS = {
    "urllib + boto3 (hand-written)": URLLIB_BOTO3,
    "httpx + boto3 (hand-written)": HTTPX_BOTO3,
    "kit: verify_test_listener": KIT_READY_MADE,
    "kit: own @lifecycle_hook": KIT_OWN,
}
COMPARED = "kit at --compare DIR: verify_test_listener"
BASELINES = ("urllib + boto3 (hand-written)", "httpx + boto3 (hand-written)")


class _Answers(BaseHTTPRequestHandler):
    """``GET``: the app. ``POST``: CodeDeploy's JSON protocol, reports counted."""

    reports: ClassVar[list[dict[str, object]]] = []

    def do_GET(self) -> None:
        self._send(200, b'{"status": "ok"}', "application/json")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        target = self.headers.get("X-Amz-Target", "")
        if target.endswith(".PutLifecycleEventHookExecutionStatus"):
            type(self).reports.append(json.loads(body or b"{}"))
            self._send(200, b"{}", "application/x-amz-json-1.1")
        else:
            self._send(400, b'{"__type": "UnknownOperationException"}', "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def environment(url: str, bytecode: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BLUEGREEN_"))}
    if bytecode is not None:
        # Every module's bytecode cached (in this folder, filled by the warm-up round), as for
        # the Lambda runtime's boto3 and a zip that carries its .pyc files: the rows compare
        # what the code does, not how long each compiles.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = bytecode
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=url,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        APP_URL=url,
        BLUEGREEN_TEST_URL=url,
    )
    return env


def program(source: str, hooks: Path = HOOKS) -> str:
    return (
        "import sys, time, json\n"
        f"sys.path.insert(0, {str(hooks)!r})\n"
        "start, cpu = time.monotonic(), time.process_time()\n"
        f"exec(compile({source!r}, 'handler.py', 'exec'))\n"
        f"answer = handler({EVENT!r}, None)\n"
        "done, cpu = time.monotonic(), time.process_time() - cpu\n"
        "status = answer['status']\n"
        "print(json.dumps({'start': start, 'done': done, 'cpu': cpu, 'status': status}))\n"
    )


def sample(
    label: str, env: dict[str, str], compare: Path | None, cwd: str
) -> tuple[float, float, float]:
    """(import -> report, spawn -> report, CPU import -> report) in seconds for one fresh
    process, run in the empty folder ``cwd`` (``python -c`` puts the working folder first on
    ``sys.path``: run from a checkout, it would shadow the ``--compare`` copy)."""
    if label == COMPARED:
        assert compare is not None
        env = {**env, "PYTHONPATH": str(compare)}
        code = program(KIT_READY_MADE, compare / "hooks")
    else:
        code = program(ROWS[label])
    before = len(_Answers.reports)
    spawned = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=cwd,
    )
    line = json.loads(out.stdout.strip().splitlines()[-1])
    if line["status"] != "Succeeded" or len(_Answers.reports) != before + 1:
        raise SystemExit(f"{label}: {line} with {len(_Answers.reports) - before} reports")
    return line["done"] - line["start"], line["done"] - spawned, line["cpu"]


def main() -> None:
    args = sys.argv[1:]
    compare = None
    if "--compare" in args:
        at = args.index("--compare")
        compare = Path(args[at + 1]).resolve()
        del args[at : at + 2]
    as_is = "--bytecode-as-is" in args
    if as_is:
        args.remove("--bytecode-as-is")
    rounds = int(args[0]) if args else DEFAULT_ROUNDS
    labels = [*ROWS, COMPARED] if compare is not None else list(ROWS)
    samples: dict[str, list[tuple[float, float, float]]] = {label: [] for label in labels}
    with (
        serving() as url,
        tempfile.TemporaryDirectory() as bytecode,
        tempfile.TemporaryDirectory() as cwd,
    ):
        env = environment(url, None if as_is else bytecode)
        for label in labels:  # one warm-up each: the page cache, not the result
            sample(label, env, compare, cwd)
        for _ in range(rounds):
            for label in labels:
                samples[label].append(sample(label, env, compare, cwd))
    cache = "as this environment has it" if as_is else "all cached"
    print(
        f"{rounds} fresh processes per row, interleaved; Python {sys.version.split()[0]}; "
        f"bytecode {cache}\n"
    )
    print(table(samples))


def table(samples: dict[str, list[tuple[float, float, float]]]) -> str:
    """The Markdown table: import -> report (min, median, max), its median as a multiple of
    each baseline's median, the median of the round-by-round ratios to ``httpx + boto3``
    (each round's samples ran back to back), and spawn -> report."""
    medians = {
        label: tuple(statistics.median(s[i] for s in values) for i in range(3))
        for label, values in samples.items()
    }
    httpx_samples = samples[BASELINES[1]]
    lines = [
        "| hook | import -> report: min | median | max | x urllib | x httpx "
        "| x httpx, paired | spawn -> report: median | x httpx | CPU import -> report "
        "| x httpx |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, values in samples.items():
        imports = [s[0] for s in values]
        med, spawn, cpu = medians[label]
        paired = statistics.median(s[0] / h[0] for s, h in zip(values, httpx_samples, strict=True))
        lines.append(
            f"| {label} | {min(imports) * 1000:.1f} ms | {med * 1000:.1f} ms "
            f"| {max(imports) * 1000:.1f} ms | {med / medians[BASELINES[0]][0]:.2f} "
            f"| {med / medians[BASELINES[1]][0]:.2f} | {paired:.2f} "
            f"| {spawn * 1000:.1f} ms | {spawn / medians[BASELINES[1]][1]:.2f} "
            f"| {cpu * 1000:.1f} ms | {cpu / medians[BASELINES[1]][2]:.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
