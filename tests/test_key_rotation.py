"""Key rotation without an outage: a token the current key cannot decrypt is a cache miss, never an error.

A team rotates a profile's recipients (a member added, the old one removed, `planet-profiles rekey`, which
also rotates the data key); a service restarted with only the new key finds its token file encrypted to the
old key. Client credentials then get a new token (logged at INFO) and save it for the new key; a user
profile asks for a login, naming the profile and the reason. Real sops, real age keys, the real dev server,
the service in its own process.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

import planet_profiles
from planet_profiles import LoginRequiredError, SopsNoKeyError
from planet_profiles._sops import Sops
from tests.fixtures_devserver import DevServer
from tests.fixtures_keys import AgeKey, make_encrypted_profile, new_age_key, write_sops_yaml
from tests.test_cli import sh

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
STALE = {"access_token": "at-STALE-9a8b", "refresh_token": "rt-STALE-7c6d", "expires_in": 3600}
CACHE_MISS = "the saved token cannot be decrypted with the current key"


def _recipients(path: Path) -> list[str]:
    return [entry["recipient"] for entry in json.loads(path.read_text())["sops"].get("age") or []]


@pytest.fixture
def rotated_away(
    tmp_path: Path, hermetic_env: Path, use_age_key: AgeKey, age_key2: AgeKey, monkeypatch: pytest.MonkeyPatch
) -> Callable[[str, dict[str, Any]], Path]:
    """`rotated_away(name, profile)`: the profile, encrypted for the process's key (`use_age_key`) in a team
    checkout on `PL_AUTH_PROFILE_PATH`, and its `~/.planet/NAME/token.sops.json`, valid but encrypted to
    another key (`age_key2`), as a rotation of keys leaves it; returns the token file."""
    monkeypatch.setenv("PL_AUTH_PROFILE_PATH", str(tmp_path / "team"))

    def make(name: str, profile: dict[str, Any]) -> Path:
        make_encrypted_profile(tmp_path / "team" / name, profile, [use_age_key.recipient])
        path = hermetic_env / ".planet" / name / "token.sops.json"
        path.parent.mkdir(parents=True, mode=0o700)
        stale = {**STALE, "_iat": 2_000_000_000, "_exp": 2_000_003_600}
        Sops().encrypt(stale, path, age_recipients=[age_key2.recipient])
        return path

    return make


def test_client_credentials_get_a_new_token_for_the_current_key(
    rotated_away: Callable[[str, dict[str, Any]], Path],
    devserver: DevServer,
    use_age_key: AgeKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token_file = rotated_away("svc", devserver.profile("oidc_client_credentials_secret", "cc-secret"))
    devserver.reset_stats()
    ctx = planet_profiles.open_profile("svc")
    assert ctx.request_authenticator_is_ready()  # a service never needs a user
    with caplog.at_level(logging.INFO, logger="planet_profiles"):
        answers = [
            requests.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10) for _ in "abc"
        ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert devserver.stats()["token_requests"] == 1
    misses = [r for r in caplog.records if CACHE_MISS in r.getMessage()]
    assert len(misses) == 1 and misses[0].levelno == logging.INFO, caplog.text
    assert "profile svc" in misses[0].getMessage() and "not one of its recipients" in misses[0].getMessage()
    assert str(token_file) in misses[0].getMessage() and "STALE" not in caplog.text
    assert _recipients(token_file) == [use_age_key.recipient]  # written for the current key
    assert Sops().decrypt(token_file)["access_token"] == ctx.token_manager.cached().access_token  # type: ignore[union-attr]


@pytest.mark.parametrize("client_type", ["oidc_auth_code", "oidc_device_code"])
def test_a_user_profile_asks_for_a_login_naming_the_profile_and_the_reason(
    rotated_away: Callable[[str, dict[str, Any]], Path],
    devserver: DevServer,
    age_key2: AgeKey,
    client_type: str,
) -> None:
    client = "native-public" if client_type == "oidc_auth_code" else "device-public"
    extra = {"local_redirect_uri": "http://127.0.0.1/callback"} if client_type == "oidc_auth_code" else {}
    # a user profile with a secret-free config, encrypted all the same (tokens follow the profile file)
    token_file = rotated_away("web", devserver.profile(client_type, client, **extra))
    devserver.reset_stats()
    ctx = planet_profiles.open_profile("web")
    assert not ctx.request_authenticator_is_ready()
    with pytest.raises(LoginRequiredError) as caught:
        requests.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10)
    message = str(caught.value)
    assert f"profile `web`: {CACHE_MISS}" in message and "not one of its recipients" in message, message
    assert str(token_file) in message and "planet-profiles login web" in message and "STALE" not in message
    assert devserver.stats()["token_requests"] == 0  # no stale refresh token was sent, none could be
    assert _recipients(token_file) == [age_key2.recipient]  # left alone until the user logs in


def _service(home: Path, checkout: Path, key: AgeKey, api_url: str) -> subprocess.CompletedProcess[str]:
    """examples/service.py in its own process, logging at INFO, with only `key`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PL_", "SOPS_"))}
    env.update(
        HOME=str(home),
        PYTHONPATH=str(REPO),
        PL_AUTH_PROFILE_PATH=str(checkout),
        PL_AUTH_PROFILE="billing-service",
        SOPS_AGE_KEY_FILE=key.identity_file,
        API_URL=api_url,
        CALLS="5",
    )
    script = (
        "import logging, runpy, sys; logging.basicConfig(level=logging.INFO); "
        "sys.argv = [sys.argv[1]]; runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-c", script, str(REPO / "examples" / "service.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_add_a_member_remove_the_old_one_rotate_restart_with_only_the_new_key(
    tmp_path: Path, devserver: DevServer
) -> None:
    keys = tmp_path / "keys"
    old, new = new_age_key(keys, "old.txt"), new_age_key(keys, "new.txt")
    repo = tmp_path / "team-repo"
    write_sops_yaml(repo, [old.recipient], path_regex=r"^profiles/")
    client = devserver.clients["cc-secret"]
    profile = make_encrypted_profile(
        repo / "profiles" / "billing-service",
        {
            "client_type": "oidc_client_credentials_secret",
            "auth_server": devserver.issuer,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "scopes": ["api.read"],
        },
        [old.recipient],
    )
    home = tmp_path / "service-home"
    home.mkdir()
    token_file = home / ".planet" / "billing-service" / "token.sops.json"

    devserver.reset_stats()
    before = _service(home, repo / "profiles", old, devserver.hello_url)
    assert before.returncode == 0 and before.stdout.count("HTTP 200") == 5, before.stdout + before.stderr
    assert _recipients(token_file) == [old.recipient]

    # 1. a member (the new key) is added: .sops.yaml, then rekey with a key that can decrypt (the old one)
    write_sops_yaml(repo, [old.recipient, new.recipient], path_regex=r"^profiles/")
    added = sh("rekey", str(repo), env={"SOPS_AGE_KEY_FILE": old.identity_file})
    assert added.returncode == 0, added.stdout + added.stderr
    assert f"rekeying 1 of 1: {profile}" in added.stderr
    # 2. the old one is removed, and the data key rotated, by the new member
    write_sops_yaml(repo, [new.recipient], path_regex=r"^profiles/")
    data_key_before = json.loads(profile.read_text())["sops"]["mac"]
    removed = sh("rekey", str(repo), env={"SOPS_AGE_KEY_FILE": new.identity_file})
    assert removed.returncode == 0 and "Rekeyed 1 of 1 file(s), data keys rotated." in removed.stdout, (
        removed.stdout + removed.stderr
    )
    assert _recipients(profile) == [new.recipient]
    assert json.loads(profile.read_text())["sops"]["mac"] != data_key_before
    with pytest.raises(SopsNoKeyError):
        Sops(env={"SOPS_AGE_KEY_FILE": old.identity_file}).decrypt(profile)

    # 3. the service restarts with only the new key: its token file is still for the old key
    devserver.reset_stats()
    after = _service(home, repo / "profiles", new, devserver.hello_url)
    assert after.returncode == 0, after.stdout + after.stderr
    assert after.stdout.count("HTTP 200") == 5 and "HTTP 4" not in after.stdout  # 0 failed calls
    assert devserver.stats()["token_requests"] == 1 and devserver.stats()["token_errors"] == 0
    assert "INFO:planet_profiles.session:profile billing-service: " + CACHE_MISS in after.stderr, after.stderr
    assert "WARNING" not in after.stderr and "Traceback" not in after.stderr
    assert _recipients(token_file) == [new.recipient]

    # 4. and the next restart uses that token, without a token request
    devserver.reset_stats()
    again = _service(home, repo / "profiles", new, devserver.hello_url)
    assert again.returncode == 0 and again.stdout.count("HTTP 200") == 5, again.stdout + again.stderr
    assert devserver.stats()["token_requests"] == 0 and CACHE_MISS not in again.stderr
