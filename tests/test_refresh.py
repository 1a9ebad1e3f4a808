"""Refresh across process restarts with rotating refresh tokens, and a revoked refresh token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import planet_profiles
from planet_profiles import LoginRequiredError
from tests.fixtures_devserver import DevServer, approve_device

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parent.parent

CALL = """
import sys, requests, planet_profiles
ctx = planet_profiles.open_profile(sys.argv[1])
r = requests.get(sys.argv[2], auth=ctx.request_authenticator(), timeout=10)
print(r.status_code)
"""


def _device_profile(home: Path, server: DevServer, name: str) -> planet_profiles.AuthContext:
    profile = home / ".planet" / name / "auth_client.json"
    profile.parent.mkdir(parents=True)
    profile.write_text(
        json.dumps(
            {
                "client_type": "oidc_device_code",
                "auth_server": server.issuer,
                "client_id": "device-public",
                "scopes": ["openid", "offline_access", "api.read"],
            }
        )
    )
    ctx = planet_profiles.open_profile(name)
    info = ctx.device_login_initiate()
    approve_device(verification_uri=info["verification_uri"], user_code=info["user_code"])
    ctx.device_login_complete(info)
    return ctx


def _wait_expired(token_file: Path) -> None:
    expires = json.loads(token_file.read_text())["_exp"]
    time.sleep(max(0.0, expires - time.time()) + 0.2)


def test_rotated_refresh_token_survives_restarts(devserver_factory, hermetic_env: Path) -> None:  # type: ignore[no-untyped-def]
    server: DevServer = devserver_factory(access_ttl=2, device_interval=1)
    ctx = _device_profile(hermetic_env, server, "rotating")
    token_file = ctx.token_file_path()
    assert token_file is not None
    seen = [json.loads(token_file.read_text())["refresh_token"]]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _ in range(2):  # two process restarts, each one refreshing with the token the last one saved
        _wait_expired(token_file)
        result = subprocess.run(
            [sys.executable, "-c", CALL, "rotating", server.hello_url],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.stdout.strip() == "200", result.stderr
        seen.append(json.loads(token_file.read_text())["refresh_token"])
    assert len(set(seen)) == 3  # rotated each time, and each rotation was persisted before use
    assert server.stats()["errors_by_grant"].get("refresh_token", 0) == 0


def test_revoked_refresh_token_is_login_required_and_keeps_files(
    devserver_factory, hermetic_env: Path
) -> None:  # type: ignore[no-untyped-def]
    server: DevServer = devserver_factory(access_ttl=2, device_interval=1)
    ctx = _device_profile(hermetic_env, server, "revoked")
    token_file = ctx.token_file_path()
    assert token_file is not None
    token = ctx.token_manager.cached()  # type: ignore[union-attr]
    assert token is not None and token.refresh_token
    ctx.auth_client().revoke(token.refresh_token, "refresh_token")  # type: ignore[attr-defined]
    before = token_file.read_bytes()
    _wait_expired(token_file)
    fresh = planet_profiles.open_profile("revoked")
    assert fresh.request_authenticator_is_ready()  # no network call yet: a refresh token is there
    with pytest.raises(LoginRequiredError) as info:
        fresh.request_authenticator().header_value()
    assert "login" in str(info.value).lower() and token.refresh_token not in str(info.value)
    assert token_file.read_bytes() == before  # nothing on disk was changed or lost
    assert not fresh.request_authenticator_is_ready()  # the refused refresh token no longer counts
