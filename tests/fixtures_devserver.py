"""pytest plugin: the real OIDC dev server (`node devserver/server.mjs`) and its protected API.

Fixtures:

- `devserver` (session): one server with the default settings, as a `DevServer`.
- `devserver_factory` (session): `devserver_factory(access_ttl=3, device_interval=2, ...)` returns a server
  started with those options, once per session per option set (servers are shared: reset `/_stats` with
  `DevServer.reset_stats()` before counting).

The launcher itself (`start_devserver`, `DevServer`, `DevClient`) lives in `devserver/launch.py`, shared
with `make demo`. Everything the server writes goes below `tmp_path_factory`, never below `HOME`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "devserver"))

from headless import (  # noqa: E402
    InteractionError,
    approve_device,
    complete_browser_login,
    follow_browser_login,
)
from launch import (  # noqa: E402
    DEVICE_CODE_GRANT,
    DevClient,
    DevServer,
    DevServerError,
    start_devserver,
)

__all__ = [
    "DEVICE_CODE_GRANT",
    "DevClient",
    "DevServer",
    "DevServerError",
    "DevServerFactory",
    "InteractionError",
    "approve_device",
    "complete_browser_login",
    "follow_browser_login",
    "start_devserver",
]


DevServerFactory = Callable[..., DevServer]


@pytest.fixture(scope="session")
def devserver_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServerFactory]:
    """`devserver_factory(**options)` -> a running `DevServer`; options as for `start_devserver`."""
    servers: dict[tuple[tuple[str, Any], ...], DevServer] = {}
    with contextlib.ExitStack() as stack:

        def factory(**options: Any) -> DevServer:
            key = tuple(sorted(options.items()))
            if key not in servers:
                state_dir = tmp_path_factory.mktemp("devserver")
                try:
                    servers[key] = stack.enter_context(start_devserver(state_dir, **options))
                except DevServerError as err:
                    pytest.fail(str(err), pytrace=False)
            return servers[key]

        yield factory


@pytest.fixture(scope="session")
def devserver(devserver_factory: DevServerFactory) -> DevServer:
    """The shared dev server with default settings (access tokens live 300 s)."""
    return devserver_factory()
