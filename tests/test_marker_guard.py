"""`tests/marker_guard.py` catches a test that starts a real part without its marker (in a child pytest)."""

from __future__ import annotations

import pytest

from tests.marker_guard import REPO

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow  # child pytest runs

CONFTEST = """
import pytest
pytest_plugins = ["tests.marker_guard"]

@pytest.fixture
def hermetic_env(tmp_path, monkeypatch):  # as tests/conftest.py's: no PL_* variable of the outer run
    monkeypatch.delenv("PL_SOPS_BINARY", raising=False)
    return tmp_path

@pytest.fixture
def devserver():
    raise AssertionError("never set up: the run stops at collection")
"""

TESTS = """
import subprocess, sys
import pytest
from planet_profiles._sops import Sops

def test_sops_in_process():
    Sops().version()

def test_sops_in_a_child():
    code = "from planet_profiles._sops import Sops; Sops().version()"
    subprocess.run([sys.executable, "-c", code], check=True)

def test_git():
    subprocess.run(["git", "--version"], check=True, capture_output=True)

def test_a_fake_sops_is_no_real_part(tmp_path):
    fake = tmp_path / "sops"
    fake.write_text("#!/bin/sh\\necho 'sops 0.0.1'\\n")
    fake.chmod(0o755)
    assert Sops(fake).version() == "0.0.1"

@pytest.mark.integration
def test_marked():
    Sops().version()
"""


@pytest.fixture
def child(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.delenv("PL_SOPS_BINARY")  # this test's own sops tripwire: the child's sops is not this test's
    pytester.makeini("[pytest]\nmarkers =\n    integration: x\n    wheel: x\n")
    pytester.makeconftest(CONFTEST)
    return pytester


def test_processes_started_without_the_marker_fail_the_test(child: pytest.Pytester) -> None:
    child.makepyfile(test_probe=TESTS)
    result = child.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, errors=3)
    for name, program in (("sops_in_process", "sops"), ("sops_in_a_child", "sops"), ("git", "git")):
        result.stdout.fnmatch_lines(
            [
                f"*ERROR at teardown of test_{name} *",
                f"marker_guard: this test started `{program}` (needs the marker `integration`)",
            ]
        )


def test_a_server_fixture_without_the_marker_stops_the_run(child: pytest.Pytester) -> None:
    child.makepyfile(test_probe="def test_uses_the_server(devserver):\n    pass\n")
    result = child.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*test_uses_the_server uses the fixture `devserver` but is not marked `integration`"]
    )
