"""The load path on every other CPython this machine has, from 3.10 (`requires-python`) on.

The suite runs on one interpreter; a name that exists only in newer versions (`typing.Self` is 3.11+) or a
class-building detail that changed between versions breaks the others silently. The load path needs only the
standard library, so each interpreter runs it from the source tree: a profile read, validated and loaded, a
saved token applied, and the `Record` types pickled and matched. (mypy also checks the package as 3.10.)
Interpreters are looked for in pyenv's versions, then as `python3.N` on PATH; a version not found is skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_transport_imports import ACCESS_TOKEN, PROFILE, saved_profile  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent
VERSIONS = ("3.10", "3.11", "3.12", "3.13", "3.14")
PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"  # before HOME moves

SCRIPT = """
import json, pickle, sys
import planet_auth_utils
from planet_profiles import Problem, find_profile
ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context(auth_profile_opt=NAME)
header = ctx.request_authenticator().header_value()
problem = Problem("a.json", "/client_id", "missing")
match pickle.loads(pickle.dumps(problem)):
    case Problem(file, pointer, message):
        matched = [file, pointer, message]
location = find_profile(NAME)
print(json.dumps({"version": sys.version_info[:2], "header": header, "matched": matched,
    "dict": hasattr(problem, "__dict__"), "location": [location.name, location.origin]}))
"""


def _interpreter(version: str) -> str | None:
    """pyenv's build of `version`, else `python3.N` on PATH (not a pyenv shim: it fails for a version that
    is not selected)."""
    pyenv = PYENV_VERSIONS
    candidates = sorted(pyenv.glob(f"{version}.*/bin/python{version}")) if pyenv.is_dir() else []
    if candidates:
        return str(candidates[-1])
    found = shutil.which(f"python{version}")
    return found if found and "/shims/" not in found else None


@pytest.mark.usefixtures("saved_profile")  # auth-code profile, valid saved token, issuer never contacted
@pytest.mark.parametrize("version", VERSIONS)
def test_the_load_path_runs_on_each_python(version: str, hermetic_env: Path) -> None:
    python = _interpreter(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "toplevel")])
    done = subprocess.run(
        [python, "-c", f"import _planet_profiles_facade\nNAME = {PROFILE!r}\n" + SCRIPT],
        env=env,
        cwd=hermetic_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {
        "version": [int(part) for part in version.split(".")],
        "header": f"Bearer {ACCESS_TOKEN}",
        "matched": ["a.json", "/client_id", "missing"],
        "dict": False,
        "location": [PROFILE, "~/.planet"],
    }
