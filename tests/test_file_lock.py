"""The cross-process token refresh lock (`planet_profiles._token_manager.file_lock`, through `filelock`).

Processes that renew the same profile's token take `<token file>.lock` one at a time (SECURITY TOK-05):
here several real processes take it, each writes an enter and an exit marker to a shared file with a pause
between, and the markers must never interleave. The same run without the lock interleaves, so the check can
fail. The lock file is private (0600 in a 0700 directory) and a lock held too long is a `StorageError`.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planet_profiles import StorageError
from planet_profiles._token_manager import file_lock

pytestmark = pytest.mark.slow  # a few seconds of interpreters starting
REPO = Path(__file__).resolve().parent.parent
PROCESSES = 4
ROUNDS = 3

# One worker: say it is ready, wait for the start signal, then ROUNDS times take the lock (or not) and write
# "enter PID" … pause … "exit PID" to the shared log, one O_APPEND write per marker.
_WORKER = """
import contextlib, os, sys, time
from pathlib import Path
from planet_profiles._token_manager import file_lock
token, log, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
use_lock, rounds = sys.argv[4] == "1", int(sys.argv[5])
go.with_name(f"ready-{os.getpid()}").touch()
while not go.exists():
    time.sleep(0.005)
for _ in range(rounds):
    with file_lock(token) if use_lock else contextlib.nullcontext():
        for marker in ("enter", "exit"):
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(fd, f"{marker} {os.getpid()}\\n".encode())
            os.close(fd)
            if marker == "enter":
                time.sleep(0.05)
"""


def _run_workers(tmp_path: Path, *, use_lock: bool) -> list[tuple[str, str]]:
    token = tmp_path / "profile" / "token.json"
    log, go = tmp_path / "markers.log", tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-c", _WORKER, str(token), str(log), str(go), str(int(use_lock)), str(ROUNDS)]
    workers = [subprocess.Popen(argv, env=env) for _ in range(PROCESSES)]
    try:
        deadline = time.monotonic() + 60  # every worker has started its interpreter and waits for the signal
        while len(list(tmp_path.glob("ready-*"))) < PROCESSES:
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.01)
        go.touch()
        for worker in workers:
            assert worker.wait(timeout=60) == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    return [tuple(line.split()) for line in log.read_text().splitlines()]  # type: ignore[misc]


def _interleaved(markers: list[tuple[str, str]]) -> bool:
    """True unless every `enter PID` is directly followed by the `exit PID` of the same process."""
    for enter, leave in zip(markers[::2], markers[1::2], strict=True):
        if enter[0] != "enter" or leave != ("exit", enter[1]):
            return True
    return False


def test_the_lock_excludes_other_processes(tmp_path: Path) -> None:
    markers = _run_workers(tmp_path, use_lock=True)
    assert len(markers) == 2 * PROCESSES * ROUNDS
    assert len({pid for _, pid in markers}) == PROCESSES
    assert not _interleaved(markers), markers


def test_without_the_lock_the_same_workers_interleave(tmp_path: Path) -> None:
    """The control: the check above fails when nothing serialises the workers."""
    markers = _run_workers(tmp_path, use_lock=False)
    assert len(markers) == 2 * PROCESSES * ROUNDS
    assert _interleaved(markers), markers


def test_the_lock_file_is_private(tmp_path: Path) -> None:
    token = tmp_path / "new" / "profile" / "token.json"
    with file_lock(token):
        lock = token.with_name("token.json.lock")
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        assert stat.S_IMODE(lock.parent.stat().st_mode) == 0o700


def test_a_lock_held_too_long_is_a_storage_error(tmp_path: Path) -> None:
    token = tmp_path / "profile" / "token.json"
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path\n"
            "from planet_profiles._token_manager import file_lock\n"
            "with file_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(30)",
            str(token),
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            started = time.monotonic()
            with pytest.raises(StorageError, match="held the token lock") as caught:
                with file_lock(token, timeout=0.3):
                    pytest.fail("the lock was taken while another process held it")
            assert 0.3 <= time.monotonic() - started < 10
            assert caught.value.file == str(token.with_name("token.json.lock"))
        finally:
            holder.kill()
