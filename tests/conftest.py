"""Shared test set-up: every test is hermetic.

`HOME`, every `PL_*` and `SOPS_*` variable point into a temp dir; no test reads the user's `~/.planet`,
`~/.planet.json`, age keys or GnuPG home. Fixtures for the real parts live in their own plugin modules.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures_keys",  # age keys (pyrage) and GnuPG keys, .sops.yaml helpers
    "tests.fixtures_devserver",  # the real OIDC server + protected API (node devserver/server.mjs)
    "tests.fixtures_git",  # git helpers, this tree as a hook repo, a shared PRE_COMMIT_HOME
    "tests.fixtures_redis",  # a real redis-server on a free loopback port (the shared token cache)
    "tests.marker_guard",  # the markers `integration` and `wheel`, checked at collection and at run time
]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def hermetic_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME into tmp_path and drop every PL_*/SOPS_*/GNUPGHOME variable of the outer environment."""
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith(("PL_", "SOPS_")) or name in ("GNUPGHOME", "XDG_CONFIG_HOME", "BROWSER"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("SOPS_DISABLE_VERSION_CHECK", "1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    return home
