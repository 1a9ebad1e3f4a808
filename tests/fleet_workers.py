"""Worker programs for the shared token cache tests (`tests/test_token_cache.py`) and bench P9.

Run as subprocesses (`python tests/fleet_workers.py MODE SPEC_JSON`, each with its own `HOME`; the tests
put the repository on `PYTHONPATH`, bench P9 runs it under the wheel's venv); every mode prints READY, and
`hammer` its figures as one JSON line at the end:

- `hammer`: `open_profile(NAME).request_authenticator()` from `threads` threads calling `url` with requests
  for `duration` s, after a `GO` line on stdin.
- `hold`: takes the profile's fleet-wide renewal lease in the shared cache and sleeps (to be SIGKILLed).

`fleet_run` (in the test / bench process) starts `processes` hammer workers with separate HOMEs sharing one
profile and returns their summed figures plus the dev server's token counters.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PROFILE = "fleet"
_MAX_ERRORS = 5


def hammer(spec: dict[str, Any]) -> dict[str, Any]:
    import requests

    import planet_profiles

    auth = planet_profiles.open_profile(spec.get("profile", PROFILE)).request_authenticator()
    statuses: Counter[int] = Counter()
    exceptions: Counter[str] = Counter()
    errors: list[str] = []
    lock = threading.Lock()
    print("READY", flush=True)
    if sys.stdin.readline().strip() != "GO":
        return {"error": "no GO line"}
    deadline = time.monotonic() + spec["duration"]

    def loop() -> None:
        session = requests.Session()
        session.trust_env = False
        while time.monotonic() < deadline:
            try:
                status = session.get(spec["url"], auth=auth, timeout=10).status_code
                with lock:
                    statuses[status] += 1
            except Exception as exc:  # noqa: BLE001 - every failure counts, by type
                with lock:
                    exceptions[type(exc).__name__] += 1
                    if len(errors) < _MAX_ERRORS:
                        errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(spec.get("pause", 0.0))

    threads = [threading.Thread(target=loop) for _ in range(spec["threads"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    calls = sum(statuses.values()) + sum(exceptions.values())
    return {"calls": calls, "ok": statuses[200], "exceptions": dict(exceptions), "errors": errors}


def hold(spec: dict[str, Any]) -> dict[str, Any]:
    import planet_profiles
    from planet_profiles._token_cache import shared_cache

    ctx = planet_profiles.open_profile(spec.get("profile", PROFILE))
    url = os.environ["PL_AUTH_TOKEN_CACHE_URL"]
    cache = shared_cache(ctx.auth_client(), ctx.profile_name() or PROFILE, url)
    assert cache is not None
    with cache.renewal(lambda token: False):
        print("READY", flush=True)
        time.sleep(600)
    return {}


def write_profile(home: Path, config: dict[str, Any], name: str = PROFILE) -> Path:
    """`home/.planet/NAME/auth_client.json` (0600: it may hold a test client's secret)."""
    directory = home / ".planet" / name
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = directory / "auth_client.json"
    fd = os.open(target, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as stream:
        json.dump(config, stream)
    return target


class WorkerProcess:
    """One worker subprocess: stdout a pipe (READY, then the JSON result as its last line), stderr a temp file
    so that a chatty worker never blocks on a full pipe. Shared by these workers and `tests.soak_workers`."""

    keep_log = False  # put the worker's stderr into its result, as `log`

    def __init__(self, argv: list[str], env: dict[str, str], *, stdin: bool = True) -> None:
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in `result` / `kill`
        self.process = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )

    def expect_ready(self) -> None:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line != "READY":
            self._stop()
            raise RuntimeError(f"worker did not start ({line!r}):\n{self.log()}")

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def result(self, timeout: float) -> dict[str, Any]:
        """The worker's JSON result (with its stderr as `log` when `keep_log`); stderr is then closed. On a
        failure the error holds the log, and `log()` stays readable until `kill`."""
        try:
            out, _ = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._stop()
            raise RuntimeError(f"worker still running after {timeout:.0f} s:\n{self.log()}") from None
        lines = out.strip().splitlines()
        if self.process.returncode != 0 or not lines or not lines[-1].startswith("{"):
            code = self.process.returncode
            raise RuntimeError(f"worker failed (exit {code}):\n{out[-2000:]}\n{self.log()}")
        result: dict[str, Any] = json.loads(lines[-1])
        if self.keep_log:
            result["log"] = self.log()
        self.stderr.close()
        return result

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` (default SIGKILL, a crash) if it still runs, reap the process and close its pipes."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        self._stop()
        self.stderr.close()

    def _stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate(timeout=30)

    def log(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-6000:]


class Worker(WorkerProcess):
    """A worker of this file: `MODE SPEC_JSON` under `python` (the wheel's venv in bench P9)."""

    keep_log = True

    def __init__(
        self, mode: str, spec: dict[str, Any], env: dict[str, str], *, python: str = sys.executable
    ) -> None:
        super().__init__([python, __file__, mode, json.dumps(spec)], env)


def worker_env(home: Path, *, settings: bool = False, **extra: str) -> dict[str, str]:
    """The environment of a worker: the caller's, with `HOME` and the repository on `PYTHONPATH`; without the
    caller's `PL_*`/`SOPS_*` settings unless `settings` (a fleet worker gets its own from `extra`)."""
    env = {k: v for k, v in os.environ.items() if settings or not k.startswith(("PL_", "SOPS_"))}
    env.update(HOME=str(home), PYTHONPATH=str(REPO), NO_PROXY="127.0.0.1,localhost")
    env["SOPS_DISABLE_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def fleet_run(
    server: Any,
    root: Path,
    config: dict[str, Any],
    *,
    processes: int,
    threads: int,
    duration: float,
    cache_url: str | None,
    events: Sequence[tuple[float, Callable[[], None]]] = (),
    python: str = sys.executable,
    env_for: Callable[[Path], dict[str, str]] = worker_env,
) -> dict[str, Any]:
    """`processes` hammer workers, each with its own HOME below `root` holding profile `fleet` (`config`),
    sharing the cache at `cache_url` (None: no cache), for `duration` s; `events` are (seconds after the
    start, action) run meanwhile. `python` runs the workers in the environment `env_for(home)`. Returns the
    summed figures and the server's token counters."""
    extra = {"PL_AUTH_TOKEN_CACHE_URL": cache_url} if cache_url else {}
    workers = []
    try:
        for number in range(processes):
            home = root / f"home{number}"
            home.mkdir(parents=True, exist_ok=True)
            write_profile(home, config)
            spec = {"url": server.hello_url, "duration": duration, "threads": threads}
            workers.append(Worker("hammer", spec, {**env_for(home), **extra}, python=python))
        for worker in workers:
            worker.expect_ready()
        server.reset_stats()
        started = time.monotonic()
        for worker in workers:
            worker.send("GO")
        for at, action in sorted(events, key=lambda event: event[0]):
            time.sleep(max(0.0, started + at - time.monotonic()))
            action()
        results = [worker.result(timeout=duration + 120) for worker in workers]
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.kill()
    stats = server.stats()
    total: dict[str, Any] = {"processes": processes, "threads": threads, "duration": duration}
    total["calls"] = sum(r["calls"] for r in results)
    total["failed"] = total["calls"] - sum(r["ok"] for r in results)
    total["exceptions"] = dict(sum((Counter(r["exceptions"]) for r in results), Counter()))
    total["errors"] = [e for r in results for e in r["errors"]]
    total["token_requests"] = stats["token_requests"]
    total["by_grant"] = stats["by_grant"]
    total["token_errors"] = stats["errors_by_grant"]
    total["logs"] = [r["log"] for r in results]
    return total


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    mode, spec = args[0], json.loads(args[1])
    result = {"hammer": hammer, "hold": hold}[mode](spec)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
