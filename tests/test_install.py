"""bluegreen as users install it: the pytest plugin never breaks another project's tests, the
simulator's extra is named when missing, and the wheel carries everything the README offers.

"Without moto" is made real in a subprocess: a ``sitecustomize`` on ``PYTHONPATH`` refuses to
import moto and moto's server (Flask), as a venv without ``bluegreen[sim]`` would. CI also
installs the built wheel into a fresh venv without any extra and runs the same checks there
(``.ci/run``).
"""

from __future__ import annotations

import email
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("install")  # one worker: the wheel is built once

ROOT = Path(__file__).resolve().parent.parent
INSTALL_SIM = "pip install 'bluegreen[sim]'"

_BLOCKER = '''
import sys


class _WithoutTheSimExtra:
    """Refuse moto and Flask, as an environment without bluegreen[sim] would."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"moto", "flask", "flask_cors"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _WithoutTheSimExtra())
'''


@pytest.fixture
def without_moto(tmp_path: Path) -> dict[str, str]:
    """The environment of a subprocess in which moto cannot be imported."""
    blocker = tmp_path / "no-sim-extra"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(_BLOCKER)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(blocker), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def foreign_suite(folder: Path, body: str) -> Path:
    """Somebody else's project: one test file, no conftest, no bluegreen in sight."""
    suite = folder / "their_project"
    suite.mkdir()
    (suite / "test_theirs.py").write_text(body)
    return suite


def test_the_moto_blocker_really_blocks(without_moto, tmp_path):
    out = run(["-c", "import moto"], without_moto, tmp_path)

    assert out.returncode == 1
    assert "No module named 'moto'" in out.stderr


def test_another_projects_tests_pass_without_moto_with_bluegreen_installed(without_moto, tmp_path):
    suite = foreign_suite(
        tmp_path,
        "import pytest\n\n"
        "def test_theirs():\n"
        "    with pytest.raises(ImportError):\n"
        "        import moto  # noqa: F401\n"
        "    assert 1 + 1 == 2\n",
    )

    out = run(
        ["-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider", str(suite)],
        without_moto,
        suite,
    )

    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed" in out.stdout
    assert "bluegreen" not in out.stdout + out.stderr


def test_the_plugin_is_loaded_and_its_fixture_names_the_extra_to_install(without_moto, tmp_path):
    suite = foreign_suite(
        tmp_path,
        "def test_uses_the_simulator(bluegreen_sim):\n    pass\n",
    )

    out = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)], without_moto, suite)

    assert out.returncode == 1  # the test errored in its fixture; pytest itself ran
    assert "1 error" in out.stdout
    assert (
        "the bluegreen_sim fixture: bluegreen.testing needs bluegreen's 'sim' extra" in out.stdout
    )
    assert INSTALL_SIM in out.stdout
    assert "Traceback" not in out.stdout


def test_importing_bluegreen_testing_without_moto_says_which_extra_to_install(
    without_moto, tmp_path
):
    code = (
        "from bluegreen.errors import MissingExtraError\n"
        "try:\n"
        "    import bluegreen.testing\n"
        "except MissingExtraError as exc:\n"
        "    assert isinstance(exc, ImportError)\n"
        "    print(exc)\n"
    )
    out = run(["-c", code], without_moto, tmp_path)

    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        "bluegreen.testing needs bluegreen's 'sim' extra (moto is not installed): " + INSTALL_SIM
    )


@pytest.mark.parametrize(
    "command",
    [["sim", "serve", "--port", "0"], ["demo", "--fast"]],
    ids=["sim serve", "demo"],
)
def test_the_simulator_commands_without_moto_end_with_one_line_naming_the_extra(
    without_moto, tmp_path, command
):
    out = run(["-m", "bluegreen", *command], without_moto, tmp_path)

    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1, out.stderr
    assert INSTALL_SIM in out.stderr


def test_the_cli_and_the_hook_kit_work_without_moto(without_moto, tmp_path):
    out = run(
        [
            "-m",
            "bluegreen",
            "schedule",
            "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
        ],
        without_moto,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr

    packaged = run(
        ["-m", "bluegreen", "hooks", "package", "--output", str(tmp_path / "hooks.zip")],
        without_moto,
        tmp_path,
    )
    assert packaged.returncode == 0, packaged.stderr
    assert "verify_test_listener.handler" in packaged.stdout


# -- the wheel --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel ``pip wheel`` builds from this checkout, as a user's ``pip install`` would."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(folder),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = folder.glob("bluegreen-*.whl")
    return built


def test_the_wheel_ships_the_ready_made_hooks_the_plugin_and_the_license(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())

    for handler in (
        "verify_test_listener",
        "verify_production",
        "restore_scaling",
        "_verify",
        "analysis_gate",
        "_gate_window",
    ):
        assert f"bluegreen/hooks/handlers/{handler}.py" in names
    assert "bluegreen/pytest_plugin.py" in names
    assert "bluegreen/py.typed" in names
    (license_file,) = [n for n in names if n.endswith("/LICENSE")]
    text = zipfile.ZipFile(wheel).read(license_file).decode()
    assert "Apache License" in text
    assert "Version 2.0" in text


def test_the_wheels_metadata_puts_moto_in_the_sim_extra_only(wheel):
    archive = zipfile.ZipFile(wheel)
    (metadata_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    metadata = email.message_from_string(archive.read(metadata_name).decode())
    requires = metadata.get_all("Requires-Dist") or []

    assert metadata["License-Expression"] == "Apache-2.0"
    assert {"sim", "dev"} <= set(metadata.get_all("Provides-Extra") or [])
    assert [r for r in requires if r.startswith("moto")] == ['moto[server]>=5.1; extra == "sim"']
    assert 'bluegreen[sim]; extra == "dev"' in requires
    (entry_points_name,) = [n for n in archive.namelist() if n.endswith("entry_points.txt")]
    entry_points = archive.read(entry_points_name).decode()
    assert "bluegreen = bluegreen.pytest_plugin" in entry_points  # not under bluegreen.testing
