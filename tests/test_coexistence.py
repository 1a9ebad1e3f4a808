"""planet-profiles installed next to Planet's SDK and planet-auth (issue 9): never clobbering.

The wheel ships no file another distribution owns: where planet-auth is installed, `import planet_auth_utils`
is planet-auth's, untouched; where it is absent, it is our facade (`toplevel/_planet_profiles_facade.py`, a
meta path finder after the standard one, installed by `planet_profiles_facade.pth`). Checked in fresh venvs
made from the built wheel and `planet==3.7.0` (the wheelhouse of `make wheel-venvs`, offline), in both
install orders and after `pip uninstall planet-profiles`: `planet --version`, `planet auth --help`,
`import planet`, `pip check`, and no path in two distributions' RECORD files.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.wheel]

REPO = Path(__file__).resolve().parent.parent
WHEELHOUSE = REPO / ".wheelhouse"
EXAMPLE = REPO / "examples" / "client" / "initialize_client_lib_in_memory.py"
TOP_LEVEL = ("_planet_profiles_facade.py", "planet_profiles_facade.pth")


@pytest.fixture(scope="module")
def wheel() -> Path:
    wheels = sorted((REPO / "dist").glob("planet_profiles-*.whl"))
    if len(wheels) != 1 or not (WHEELHOUSE / ".stamp").exists():
        pytest.fail("the wheel or the wheelhouse is missing: `make test` (`make wheel-venvs`) builds them")
    return wheels[0]


class Venv:
    """A fresh venv without pip (the test venv's pip installs into it, offline, from the wheelhouse)."""

    def __init__(self, path: Path, home: Path) -> None:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)
        self.path = path
        self.python = path / "bin" / "python"
        self.site = Path(
            self.run("python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
        )
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PL_", "PYTHON", "VIRTUAL_ENV"))}
        self.env.update(
            HOME=str(home), PIP_NO_INDEX="1", PATH=f"{path / 'bin'}{os.pathsep}{os.environ['PATH']}"
        )

    def run(self, program: str, *args: str) -> str:
        done = subprocess.run(
            [str(self.path / "bin" / program), *args],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=self.path,  # never the checkout: its planet_profiles/ would shadow the installed one
            env=getattr(self, "env", None),
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, f"{program} {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done.stdout.strip()

    def pip(self, *args: str) -> str:
        command = [
            sys.executable,
            "-m",
            "pip",
            "--disable-pip-version-check",
            "--python",
            str(self.python),
            *args,
        ]
        if args[0] == "install":
            command += ["--no-index", "--find-links", str(WHEELHOUSE)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=self.env)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def shared_paths(self) -> dict[str, list[str]]:
        """Every path listed in the RECORD of more than one installed distribution."""
        owners: dict[str, list[str]] = defaultdict(list)
        for record in self.site.glob("*.dist-info/RECORD"):
            with record.open(newline="") as handle:
                for row in csv.reader(handle):
                    path = os.path.normpath(self.site / row[0])
                    owners[path].append(record.parent.name)
        return {path: dists for path, dists in owners.items() if len(dists) > 1}

    def assert_planet_works(self) -> None:
        assert self.run("planet", "--version") == "planet, version 3.7.0"
        assert "Commands for working with Planet authentication." in self.run("planet", "auth", "--help")
        where = self.run(
            "python", "-c", "import planet, planet_auth_utils; print(planet_auth_utils.__file__)"
        )
        assert where == str(self.site / "planet_auth_utils" / "__init__.py")  # planet-auth's own
        self.pip("check")
        assert self.shared_paths() == {}

    def assert_facade_served(self) -> None:
        """No planet-auth: `import planet_auth_utils` is ours, and the seed's example runs verbatim."""
        code = "import planet_auth_utils as m; print(m.PlanetAuthFactory.__module__)"
        assert self.run("python", "-c", code) == "planet_profiles._facade"
        assert "Auth client class: AuthCodeAuthClient" in self.run("python", str(EXAMPLE))


def test_sdk_first_then_planet_profiles_then_uninstall(tmp_path: Path, wheel: Path) -> None:
    venv = Venv(tmp_path / "venv", tmp_path)
    venv.pip("install", "planet==3.7.0")
    venv.assert_planet_works()
    auth_files = {p.name for p in (venv.site / "planet_auth_utils").iterdir() if p.suffix == ".py"}

    venv.pip("install", f"{wheel}[all]")
    venv.assert_planet_works()
    assert {p.name for p in (venv.site / "planet_auth_utils").iterdir() if p.suffix == ".py"} == auth_files
    assert venv.run("planet-profiles", "--version").endswith("0.1.0")
    for name in TOP_LEVEL:
        assert (venv.site / name).is_file()

    venv.pip("uninstall", "--yes", "planet-profiles")
    venv.assert_planet_works()
    for name in TOP_LEVEL:
        assert not (venv.site / name).exists()  # both were in our RECORD
    gone = "import importlib.util as u; print(u.find_spec('planet_profiles') is None)"
    assert venv.run("python", "-c", gone) == "True"


def test_planet_profiles_first_then_sdk(tmp_path: Path, wheel: Path) -> None:
    venv = Venv(tmp_path / "venv", tmp_path)
    venv.pip("install", f"{wheel}[all]")
    venv.assert_facade_served()
    assert venv.shared_paths() == {}

    venv.pip("install", "planet==3.7.0")
    venv.assert_planet_works()  # planet-auth's planet_auth_utils now, ours untouched beside it

    venv.pip("uninstall", "--yes", "planet", "planet-auth")
    venv.assert_facade_served()  # nothing provides the name again: the facade is back

    venv.pip("install", "planet==3.7.0")
    venv.pip("uninstall", "--yes", "planet-profiles")
    venv.assert_planet_works()


def test_the_finder_comes_after_the_standard_one_and_defers_to_any_package(tmp_path: Path) -> None:
    """In the test venv (editable install): any `planet_auth_utils` on sys.path wins over the facade."""
    other = tmp_path / "elsewhere" / "planet_auth_utils"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("WHO = 'the installed one'\n")
    code = (
        "import sys, importlib.machinery as m, _planet_profiles_facade as f\n"
        "print(sys.meta_path.index(f.FacadeFinder) > sys.meta_path.index(m.PathFinder))\n"
        "import planet_auth_utils; print(getattr(planet_auth_utils, 'WHO', planet_auth_utils.__name__))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    plain = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert plain.stdout.split("\n")[:2] == ["True", "planet_auth_utils"], plain.stderr
    env["PYTHONPATH"] = str(other.parent)
    shadowed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert shadowed.stdout.split("\n")[:2] == ["True", "the installed one"], shadowed.stderr
