"""``bluegreen demo`` end to end: the simulator in real time, local apps, proxies and load."""

import json
import threading

from bluegreen.cli import main


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("bluegreen-")}


def test_fast_demo_releases_v2_rolls_back_v3_and_exits_0(capsys):
    before = _threads()

    code = main(["demo", "--fast"])

    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "production traffic  blue 90%  green 10%" in out
    assert "production traffic  blue 0%  green 100%" in out
    assert "== release 1 (v2) succeeded" in out
    assert "== release 2 (v3) failed, as it should" in out
    assert "lifecycle event  AfterAllowTestTraffic" in out
    assert "error code       HOOK_EXECUTION_FAILURE" in out
    assert "Autoscaling before release 1 (v2):" in out
    assert "Autoscaling after release 2 (v3):" in out
    assert "production served no v3 response: 0 v3 responses" in out
    assert "  FAIL  " not in out
    assert "the hook reported Failed: http failed" in out
    assert "demo OK" in out
    assert _threads() <= before, "every demo thread and server is stopped"


def test_fast_demo_json_output_is_one_object_per_line_ending_with_done(capsys):
    code = main(["demo", "--fast", "--output", "json"])

    out, _ = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    kinds = {r["type"] for r in records}
    assert {"demo_started", "autoscaling", "release_started", "responses", "traffic"} <= kinds
    ended = [r for r in records if r["type"] == "release_ended"]
    assert [r["outcome"] for r in ended] == ["succeeded", "rolled_back"]
    assert ended[1]["lifecycle_event"] == "AfterAllowTestTraffic"
    done = records[-1]
    assert done["type"] == "done"
    assert done["exit_code"] == 0
    assert done["ok"] is True
    assert done["served"].get("v3", 0) == 0
    assert all(check["ok"] for check in done["checks"])
