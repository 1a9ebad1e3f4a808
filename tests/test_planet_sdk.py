"""Planet's SDK (`planet==3.7.0`, with planet-auth) on planet-profiles credentials (issue 9).

The SDK's own `planet.Session` (its retries, its `raise_for_status` hook: a 401 raises `InvalidAPIKey`) gets
200 from the dev server's API as the profile's client, for client credentials (a sops-encrypted team
profile from `PL_AUTH_PROFILE_PATH`), device code and auth code profiles, also when the token expires
between calls. Each case runs `tests/sdk_driver.py` in the SDK venv (`.venv-sdk/`: planet==3.7.0 and the
built wheel `[all]`, made by `make wheel-venvs`), from outside the checkout, so the wheel is what runs and
`planet_auth_utils` is planet-auth's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fault_proxy import Fault, FaultProxy
from tests.fixtures_devserver import DevServer, DevServerFactory, approve_device
from tests.fixtures_keys import AgeKey, make_encrypted_profile

pytestmark = [pytest.mark.integration, pytest.mark.wheel]

REPO = Path(__file__).resolve().parent.parent
SDK_VENV = REPO / ".venv-sdk"
DRIVER = REPO / "tests" / "sdk_driver.py"


@pytest.fixture(scope="module")
def sdk_python() -> Path:
    python = SDK_VENV / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{SDK_VENV} is missing: `make test` (or `make wheel-venvs`) creates it", pytrace=False)
    return python


def _team(root: Path, server: DevServer, age_key: AgeKey) -> Path:
    """A team repo checkout: `billing` (client credentials, sops-encrypted), `device`, `web` (public)."""
    profiles = root / "team" / "profiles"
    make_encrypted_profile(
        profiles / "billing",
        server.profile("oidc_client_credentials_secret", "cc-secret"),
        [age_key.recipient],
    )
    for name, config in {
        "device": server.profile("oidc_device_code", "device-public"),
        "web": server.profile(
            "oidc_auth_code", "native-public", local_redirect_uri="http://127.0.0.1/callback"
        ),
    }.items():
        (profiles / name).mkdir(parents=True)
        (profiles / name / "auth_client.json").write_text(json.dumps(config))
    return profiles


def _env(tmp_path: Path, profiles: Path, profile: str, age_key: AgeKey, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PL_", "SOPS_", "PYTHON"))}
    home = tmp_path / "sdk-home"
    home.mkdir(exist_ok=True)
    env.update(
        HOME=str(home),
        PL_AUTH_PROFILE_PATH=str(profiles),
        PL_AUTH_PROFILE=profile,
        SOPS_AGE_KEY_FILE=age_key.identity_file,
        SOPS_DISABLE_VERSION_CHECK="1",
        NO_PROXY="127.0.0.1,localhost",
        **extra,
    )
    return env


def _result(stdout: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return result


def _drive(python: Path, env: dict[str, str], cwd: Path, mode: str, url: str, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [str(python), str(DRIVER), mode, url, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.stdout.strip(), done.stderr
    return _result(done.stdout) | {"returncode": done.returncode, "stderr": done.stderr}


def _assert_wheel_and_planet_auth(result: dict[str, Any]) -> None:
    """The wheel in the SDK venv ran (not the checkout), next to planet-auth's own `planet_auth_utils`."""
    site = str(SDK_VENV / "lib")
    assert result["planet_profiles"].startswith(site), result["planet_profiles"]
    assert result["planet_auth_utils"].startswith(site)
    assert result["planet_auth_utils"].endswith("planet_auth_utils/__init__.py")


@pytest.fixture
def team(tmp_path: Path, devserver: DevServer, age_key: AgeKey) -> Path:
    return _team(tmp_path, devserver, age_key)


def test_session_with_an_encrypted_team_profile(
    sdk_python: Path, tmp_path: Path, devserver: DevServer, team: Path, age_key: AgeKey
) -> None:
    """20 concurrent requests on the SDK's Session: one token request (single flight), off the loop."""
    devserver.reset_stats()
    result = _drive(
        sdk_python, _env(tmp_path, team, "billing", age_key), tmp_path, "session", devserver.hello_url, "20"
    )
    assert result["returncode"] == 0, result
    assert result["answers"] == [{"status": 200, "client_id": "cc-secret"}] * 20
    assert devserver.stats()["token_requests"] == 1
    assert result["fetches_on_loop"] == [False]  # one fetch, in a worker thread: the loop never blocked
    _assert_wheel_and_planet_auth(result)
    assert (tmp_path / "sdk-home" / ".planet" / "billing" / "token.sops.json").is_file()  # encrypted at rest
    assert not list(team.rglob("token*"))


def test_the_sdks_own_plauth_hook_works_too(
    sdk_python: Path, tmp_path: Path, devserver: DevServer, team: Path, age_key: AgeKey
) -> None:
    """`planet.Auth._from_plauth(ctx)` calls `ctx.request_authenticator().auth_flow(request)`: header set.
    The SDK runs that sync flow on the event loop, so the token is fetched there (why `planet_sdk_auth`)."""
    result = _drive(
        sdk_python, _env(tmp_path, team, "billing", age_key), tmp_path, "plauth", devserver.hello_url
    )
    assert result["returncode"] == 0, result
    assert result["answers"] == [{"status": 200, "client_id": "cc-secret"}]
    assert result["fetches_on_loop"] == [True]


def test_a_missing_header_fails(
    sdk_python: Path, tmp_path: Path, devserver: DevServer, team: Path, age_key: AgeKey
) -> None:
    """The control for every test here: without the header the API answers 401 and the SDK raises."""
    result = _drive(
        sdk_python, _env(tmp_path, team, "billing", age_key), tmp_path, "no-header", devserver.hello_url
    )
    assert result["returncode"] == 1 and result["error"] == "InvalidAPIKey", result
    assert "unauthorized" in result["message"]


def test_the_token_expires_between_calls(
    sdk_python: Path, tmp_path: Path, devserver_factory: DevServerFactory, age_key: AgeKey
) -> None:
    server = devserver_factory(access_ttl=2)
    profiles = _team(tmp_path, server, age_key)
    server.reset_stats()
    env = _env(tmp_path, profiles, "billing", age_key)
    result = _drive(sdk_python, env, tmp_path, "expiry", server.hello_url, "2.5")
    assert result["returncode"] == 0, result
    assert result["answers"] == [{"status": 200, "client_id": "cc-secret"}] * 2  # no 401 on the way
    assert server.stats()["token_requests"] == 2
    assert result["fetches_on_loop"] == [False, False]


def test_the_sdks_retries_keep_the_header(
    sdk_python: Path, tmp_path: Path, devserver: DevServer, team: Path, age_key: AgeKey
) -> None:
    with FaultProxy(devserver.api_url) as proxy:
        proxy.inject("/api/hello", Fault.status(502), times=1)
        url = f"{proxy.url}/api/hello"
        result = _drive(sdk_python, _env(tmp_path, team, "billing", age_key), tmp_path, "retry", url)
        assert result["returncode"] == 0, result
        assert result["answers"] == [{"status": 200, "client_id": "cc-secret"}]
        assert result["outcomes"].get("BadGateway") == 1
        assert proxy.count("/api/hello") == 2


def test_device_code_profile(
    sdk_python: Path, tmp_path: Path, devserver: DevServer, team: Path, age_key: AgeKey
) -> None:
    env = _env(tmp_path, team, "device", age_key)
    process = subprocess.Popen(
        [str(sdk_python), str(DRIVER), "device", devserver.hello_url],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    try:
        initiated = json.loads(first)["initiated"]
    except (ValueError, KeyError):
        process.kill()
        pytest.fail(first + process.communicate()[1])
    approve_device(verification_uri=initiated["verification_uri"], user_code=initiated["user_code"])
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, out + err
    result = _result(out)
    assert result["answers"] == [{"status": 200, "client_id": "device-public"}]
    assert json.loads((tmp_path / "sdk-home" / ".planet" / "device" / "token.json").read_text())[
        "refresh_token"
    ]


def test_auth_code_profile(
    sdk_python: Path, tmp_path: Path, devserver: DevServer, team: Path, age_key: AgeKey
) -> None:
    browser = (
        f"{sys.executable} {REPO / 'tests' / 'browser_driver.py'} %s"  # the test venv's headless browser
    )
    env = _env(tmp_path, team, "web", age_key, BROWSER=browser)
    result = _drive(sdk_python, env, tmp_path, "authcode", devserver.hello_url)
    assert result["returncode"] == 0, result
    assert result["answers"] == [{"status": 200, "client_id": "native-public"}]
    assert result["fetches_on_loop"] == []  # the login fetched the token; no refresh was due


def test_sync_httpx_client_with_the_adapter(
    sdk_python: Path, tmp_path: Path, devserver: DevServer, team: Path, age_key: AgeKey
) -> None:
    result = _drive(
        sdk_python, _env(tmp_path, team, "billing", age_key), tmp_path, "httpx", devserver.hello_url
    )
    assert result["returncode"] == 0, result
    assert result["answers"] == [{"status": 200, "client_id": "cc-secret"}]
