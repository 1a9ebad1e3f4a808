"""The seed's client examples (examples/client/) run unchanged against the local OIDC server.

Only what a user pointing them at their own server would change is changed: the auth server URL, the API
URL, the client id and the profile's contents. Each runs in its own process with its own HOME.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.fixtures_devserver import DevServer, approve_device
from tests.fixtures_keys import AgeKey, make_encrypted_profile

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "client"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PL_", "SOPS_"))}
    env.update(HOME=str(home), PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO), **extra)
    return env


def _script(tmp_path: Path, name: str, replacements: dict[str, str]) -> Path:
    """The example with only the server-specific strings replaced (they must all be present)."""
    text = (EXAMPLES / name).read_text()
    for old, new in replacements.items():
        assert old in text, f"{old!r} not in {name}"
        text = text.replace(old, new)
    target = tmp_path / name
    target.write_text(text)
    return target


def _custom_profile(home: Path, server: DevServer) -> None:
    """`~/.planet/my-custom-profile/auth_client.json`: the seed's profile, pointed at the dev server."""
    profile = home / ".planet" / "my-custom-profile" / "auth_client.json"
    profile.parent.mkdir(parents=True)
    config = server.profile("oidc_auth_code", "native-public", local_redirect_uri="http://127.0.0.1/callback")
    profile.write_text(json.dumps(config))


def _run(script: Path, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_in_memory_example_verbatim(tmp_path: Path) -> None:
    home = tmp_path / "example-home"
    home.mkdir()
    result = _run(EXAMPLES / "initialize_client_lib_in_memory.py", _env(home))
    assert result.returncode == 0, result.stderr
    assert "Auth client class: AuthCodeAuthClient" in result.stdout
    assert list(home.rglob("*")) == []  # save_token_file=False, save_profile_config=False


def test_on_disk_profile_example(tmp_path: Path, devserver: DevServer) -> None:
    home = tmp_path / "example-home"
    _custom_profile(home, devserver)
    result = _run(EXAMPLES / "initialize_client_lib_on_disk_profile.py", _env(home))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Auth context initialized from on disk profile my-custom-profile"


def test_device_login_example(tmp_path: Path, devserver: DevServer) -> None:
    home = tmp_path / "example-home"
    home.mkdir()
    script = _script(
        tmp_path,
        "perform_oauth_device_login.py",
        {
            "https://login.example.com/": devserver.issuer,
            "__client_id__": "device-public",
        },
    )
    process = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(home),
        stdin=subprocess.DEVNULL,
    )
    assert process.stdout is not None and process.stderr is not None
    stderr_lines: list[str] = []
    drain = threading.Thread(target=lambda: stderr_lines.extend(process.stderr))  # type: ignore[union-attr]
    drain.start()
    lines: list[str] = []
    code = None
    for line in process.stdout:
        lines.append(line)
        if "enter the activation code" in line:
            break
    for line in process.stdout:
        lines.append(line)
        if line.strip():
            code = line.strip()
            break
    assert code, "".join(lines) + "".join(stderr_lines)
    uri = next(m.group(0) for m in (re.search(r"http\S+", ln) for ln in lines) if m)
    approve_device(verification_uri=uri, user_code=code)
    out, _ = process.communicate(timeout=60)
    drain.join(timeout=10)
    lines.append(out)
    assert process.returncode == 0, "".join(lines) + "".join(stderr_lines)
    text = "".join(lines)
    assert "You may scan this QR code" in text
    token_file = home / ".planet" / "_my_profile_name_" / "token.json"
    assert f"Credential saved to file {token_file}" in text
    saved_profile = json.loads((home / ".planet" / "_my_profile_name_" / "auth_client.json").read_text())
    assert saved_profile["client_id"] == "device-public"  # save_profile_config=True wrote the profile
    assert json.loads(token_file.read_text())["refresh_token"]
    # The debug log of the whole flow holds no token.
    token = json.loads(token_file.read_text())
    assert token["access_token"] not in "".join(stderr_lines)
    assert token["refresh_token"] not in "".join(stderr_lines)


def test_login_then_requests_and_httpx_examples(tmp_path: Path, devserver: DevServer) -> None:
    """On-disk profile → initial login through the system browser (`BROWSER`) → requests and httpx calls."""
    home = tmp_path / "example-home"
    _custom_profile(home, devserver)
    env = _env(home, BROWSER=f"{sys.executable} {REPO / 'tests' / 'browser_driver.py'} %s")

    login = _run(EXAMPLES / "perform_oauth_initial_login.py", env)
    token_file = home / ".planet" / "my-custom-profile" / "token.json"
    assert login.returncode == 0, login.stdout + login.stderr
    assert f"New credential saved to file {token_file}" in login.stdout
    token = json.loads(token_file.read_text())
    for secret in (token["access_token"], token["refresh_token"]):
        assert secret not in login.stdout + login.stderr  # the DEBUG log holds no token

    again = _run(EXAMPLES / "perform_oauth_initial_login.py", env)
    assert "my-custom-profile has already been initialized." in again.stdout

    for name in ("make_oauth_authenticated_requests_request.py", "make_oauth_authenticated_httpx_request.py"):
        script = _script(tmp_path, name, {"https://api.planet.com/basemaps/v1/mosaics": devserver.hello_url})
        result = _run(script, env)
        assert result.returncode == 0, result.stdout + result.stderr
        status, body = result.stdout.strip().splitlines()[:2]
        assert status == "200" and "'ok': True" in body and "'client_id': 'native-public'" in body


def test_service_example_loads_from_a_team_checkout(
    tmp_path: Path, devserver: DevServer, age_key: AgeKey
) -> None:
    checkout = tmp_path / "team-repo" / "profiles"
    client = devserver.clients["cc-secret"]
    make_encrypted_profile(
        checkout / "billing-service",
        {
            "client_type": "oidc_client_credentials_secret",
            "auth_server": devserver.issuer,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "scopes": ["api.read"],
        },
        [age_key.recipient],
    )
    home = tmp_path / "example-home"
    home.mkdir()
    env = _env(
        home,
        PL_AUTH_PROFILE_PATH=str(checkout),
        PL_AUTH_PROFILE="billing-service",
        SOPS_AGE_KEY_FILE=age_key.identity_file,
        API_URL=devserver.hello_url,
    )
    devserver.reset_stats()
    result = _run(REPO / "examples" / "service.py", env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "profile billing-service (PL_AUTH_PROFILE)" in result.stdout
    assert result.stdout.count("HTTP 200") == 3
    assert devserver.stats()["token_requests"] == 1
    assert (home / ".planet" / "billing-service" / "token.sops.json").exists()
    assert not list(checkout.rglob("token*"))  # never a token in the checkout
