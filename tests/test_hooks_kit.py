"""bluegreen.hooks, the package: its public names, and what importing it costs (nothing heavy:
boto3, httpx and tenacity load on first use)."""

from __future__ import annotations

import json
import subprocess
import sys


def test_hooks_all_is_sorted_and_names_only_what_exists():
    import bluegreen.hooks

    assert bluegreen.hooks.__all__ == sorted(bluegreen.hooks.__all__)
    # "@py_builtins" and "@pytest_ar" appear when pytest's assertion rewriting reaches the
    # module; they are pytest's, not ours.
    public = {n for n in dir(bluegreen.hooks) if not n.startswith(("_", "@"))}
    assert set(bluegreen.hooks.__all__) == public


# -- cold start -----------------------------------------------------------------------------


def test_importing_the_kit_imports_no_cli_yaml_moto_rich_boto3_httpx_or_tenacity():
    code = (
        "import sys, json\n"
        "import bluegreen.hooks\n"
        "from bluegreen.hooks import checks, lifecycle_hook, test_listener_url\n"
        "heavy = ('bluegreen.cli', 'yaml', 'moto', 'rich', 'boto3', 'botocore', 'httpx',"
        " 'tenacity')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy"
        " or m.startswith('bluegreen.cli'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []
