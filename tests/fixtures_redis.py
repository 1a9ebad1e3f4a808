"""pytest plugin: a real `redis-server` (Debian package `redis-server`, installed by `make install`); bench P9
uses `RedisServer` too.

`redis_server` starts `redis-server --port P --save '' --appendonly no` on a free loopback port for one test,
with its files below `tmp_path`; the test can `kill()` it (SIGKILL, as a crash) and `start()` it again on the
same port, set a password (`start(password=...)`) and count the commands it served (`command_counts()`).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["RedisServer", "free_port"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One `redis-server` process on 127.0.0.1 (no persistence)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.password: str | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._client: Any = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, password: str | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not on PATH: `make install` installs it (Debian package)")
        self.password = password
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        argv += ["--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")]
        if password:
            argv += ["--requirepass", password]
        self.process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if self.client().ping():
                    return
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        self.kill()
        log = self.directory / "redis.log"
        raise RuntimeError(f"redis-server did not start:\n{log.read_text()[-2000:] if log.exists() else ''}")

    def kill(self) -> None:
        """SIGKILL: as if the server crashed (its data is gone: nothing is saved)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def client(self) -> Any:
        """A client of this server (one per start: counting commands must not add connection handshakes)."""
        import redis

        if self._client is None:
            self._client = redis.Redis(
                host="127.0.0.1", port=self.port, password=self.password, socket_timeout=2
            )
        return self._client

    def command_counts(self) -> dict[str, int]:
        """Calls per command since start (`INFO commandstats`), without the INFO calls themselves."""
        stats = self.client().info("commandstats")
        counts = {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}
        counts.pop("info", None)
        return counts

    def dump(self) -> dict[bytes, bytes]:
        """Every key and its value (`SCAN` + `GET`)."""
        client = self.client()
        return {key: client.get(key) for key in client.scan_iter()}


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.kill()
