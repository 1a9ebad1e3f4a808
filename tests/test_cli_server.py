"""The CLI against the real OIDC dev server: `token`, `login --device`, `logout`, `doctor`."""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

import planet_profiles
from tests.fixtures_devserver import DevServer, DevServerFactory, approve_device
from tests.fixtures_keys import AgeKey, make_encrypted_profile
from tests.test_cli import SCRIPT, assert_one_error, run, sh, write_profile

pytestmark = pytest.mark.integration


def hello(server: DevServer, access_token: str) -> int:
    return requests.get(
        server.hello_url, headers={"Authorization": f"Bearer {access_token}"}, timeout=10
    ).status_code


def test_token_prints_only_the_token_and_caches_it(devserver: DevServer, hermetic_env: Path) -> None:
    write_profile(
        hermetic_env / ".planet", "cc", devserver.profile("oidc_client_credentials_secret", "cc-secret")
    )
    devserver.reset_stats()
    first = run("token", "cc")
    assert first.exit_code == 0, first.output
    access_token = first.stdout.strip()
    assert first.stdout == access_token + "\n" and hello(devserver, access_token) == 200
    assert devserver.stats()["token_requests"] == 1
    again = subprocess.run(
        [str(SCRIPT), "token", "cc"], capture_output=True, text=True, timeout=30, check=False
    )
    assert again.returncode == 0 and again.stdout == first.stdout, again.stderr
    assert devserver.stats()["token_requests"] == 1  # served from ~/.planet/cc/token.json
    status = json.loads(run("status", "cc", "--json").stdout)
    assert status["state"] == "valid" and status["scopes"] == ["api.read"]


@pytest.mark.parametrize("client_type", ["oidc_client_credentials_secret", "oidc_client_credentials_pubkey"])
def test_login_scope_narrows_a_client_credentials_token(
    client_type: str, devserver: DevServer, hermetic_env: Path
) -> None:
    """`login --scope` asks the token endpoint for that scope (it was ignored): the dev server grants the
    narrower scope, and its API refuses that token where `api.write` is needed."""
    client_id, key = ("cc-secret", None) if client_type.endswith("_secret") else ("cc-pubkey", "rsa")
    config = devserver.profile(client_type, client_id, key=key, scopes=["api.read", "api.write"])
    write_profile(hermetic_env / ".planet", "cc", config)
    narrow = run("login", "cc", "--scope", "api.read")
    assert narrow.exit_code == 0, narrow.output
    assert narrow.stdout.startswith("Logged in with profile cc (scope: api.read), expires in ")
    assert "Renewals of this token request the profile's scopes again." in narrow.stderr
    token = json.loads((hermetic_env / ".planet" / "cc" / "token.json").read_text())
    assert token["scope"] == "api.read"
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(devserver.write_url, headers=headers, timeout=10).status_code == 403
    assert hello(devserver, token["access_token"]) == 200
    wide = run("login", "cc")
    assert wide.exit_code == 0, wide.output
    token = json.loads((hermetic_env / ".planet" / "cc" / "token.json").read_text())
    assert sorted(token["scope"].split()) == ["api.read", "api.write"]
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert requests.get(devserver.write_url, headers=headers, timeout=10).status_code == 200


def test_verbose_logs_to_stderr_without_secrets(devserver: DevServer, hermetic_env: Path) -> None:
    config = devserver.profile("oidc_client_credentials_secret", "cc-secret")
    write_profile(hermetic_env / ".planet", "cc", config)
    result = run("-v", "token", "cc")
    assert result.exit_code == 0 and "DEBUG" in result.stderr
    access_token = result.stdout.strip()
    assert access_token not in result.stderr and config["client_secret"] not in result.stderr


def test_token_of_an_interactive_profile_without_login(devserver: DevServer, hermetic_env: Path) -> None:
    write_profile(hermetic_env / ".planet", "dev", devserver.profile("oidc_device_code", "device-public"))
    result = run("token", "dev")
    assert "planet-profiles login" in assert_one_error(result.stderr, result.stdout, result.exit_code)


def test_login_device_then_status_and_logout(devserver_factory: DevServerFactory, hermetic_env: Path) -> None:
    """A real `login --device --no-browser` process; the user approves from another thread."""
    server = devserver_factory(device_interval=1)  # polls every second instead of RFC 8628's default 5 s
    config = server.profile("oidc_device_code", "device-public", scopes=["openid"])
    write_profile(hermetic_env / ".planet", "dev", config)
    shown: list[str] = []
    args = ["login", "dev", "--device", "--no-browser", "--scope", "openid", "--scope", "offline_access"]
    with subprocess.Popen(
        [str(SCRIPT), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:

        def user() -> None:  # the only reader of stderr: reads the code, approves on the provider's pages
            assert process.stderr is not None
            for line in process.stderr:
                shown.append(line)
                found = re.search(r"open (\S+) and enter the code: (\S+)", line)
                if found:
                    try:
                        approve_device(verification_uri=found[1], user_code=found[2])
                    except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                        shown.append(f"approval failed: {exc!r}\n")
                        process.kill()

        reader = threading.Thread(target=user, daemon=True)
        reader.start()
        try:
            process.wait(timeout=60)
        finally:
            process.kill()
        reader.join(timeout=10)
        assert process.stdout is not None
        stdout = process.stdout.read()
    assert process.returncode == 0, "".join(shown)
    assert "Logged in with profile dev" in stdout and "Traceback" not in "".join(shown)
    token_file = hermetic_env / ".planet" / "dev" / "token.json"
    status = json.loads(run("status", "dev", "--json").stdout)
    assert (
        status["state"] == "valid"
        and status["refresh_token"] is True
        and "offline_access" in status["scopes"]
    )
    assert status["file"] == str(token_file)
    assert json.loads(run("list", "--json").stdout)[0]["token"] == "valid"

    logout = run("logout", "dev")
    assert logout.exit_code == 0 and f"deleted {token_file}" in logout.stdout, logout.output
    assert not token_file.exists()
    assert json.loads(run("status", "dev", "--json").stdout)["state"] == "none"
    assert "had no token" in run("logout", "dev").stdout


def test_logout_says_what_was_revoked_and_when_a_jwt_access_token_expires(
    devserver_factory: DevServerFactory, hermetic_env: Path
) -> None:
    """Issue 14 point 9: the dev server revokes the refresh token but cannot revoke its JWT access tokens
    (`unsupported_token_type`); `logout` says so, with the access token's expiry, and no warning."""
    server = devserver_factory(device_interval=1)
    scopes = ["openid", "offline_access", "api.read"]  # api.read: a JWT access token for the API
    write_profile(
        hermetic_env / ".planet",
        "dev",
        server.profile("oidc_device_code", "device-public", scopes=scopes),
    )
    ctx = planet_profiles.open_profile("dev")
    info = ctx.device_login_initiate()
    approve_device(verification_uri=info["verification_uri"], user_code=info["user_code"])
    ctx.device_login_complete(info)
    token = ctx.token_manager.cached()  # type: ignore[union-attr]
    assert token is not None and token.refresh_token and token.access_token.count(".") == 2  # a JWT
    at = datetime.datetime.fromtimestamp(token.expires_at).astimezone()  # type: ignore[arg-type]

    result = run("logout", "dev")

    assert result.exit_code == 0 and result.stderr == "", result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "Revoked the refresh token of profile dev."
    assert lines[1].startswith(
        f"The server cannot revoke the access token (a JWT): it stays valid until it expires at {at:%H:%M:%S}"
    )
    assert lines[2].startswith("Logged out of profile dev: deleted ")
    client = ctx.auth_client()
    assert client.introspect(token.refresh_token, "refresh_token") == {"active": False}  # type: ignore[attr-defined]


def test_login_device_on_a_type_without_device_flow(devserver: DevServer, hermetic_env: Path) -> None:
    write_profile(
        hermetic_env / ".planet", "cc", devserver.profile("oidc_client_credentials_secret", "cc-secret")
    )
    result = run("login", "cc", "--device")
    assert "device flow" in assert_one_error(result.stderr, result.stdout, result.exit_code)
    plain = run("login", "cc")  # no user needed: the grant is the login
    assert plain.exit_code == 0 and "Logged in with profile cc" in plain.stdout


def test_logout_deletes_the_token_even_when_the_server_is_down(
    devserver: DevServer, hermetic_env: Path
) -> None:
    planet = hermetic_env / ".planet"
    write_profile(planet, "cc", devserver.profile("oidc_client_credentials_secret", "cc-secret"))
    assert run("token", "cc").exit_code == 0
    config = json.loads((planet / "cc" / "auth_client.json").read_text())
    (planet / "cc" / "auth_client.json").write_text(
        json.dumps({**config, "auth_server": "http://127.0.0.1:9"})
    )
    result = run("logout", "cc")
    assert result.exit_code == 0 and "warning: the server did not revoke" in result.stderr
    assert not (planet / "cc" / "token.json").exists()


# ---------------------------------------------------------------- doctor


@pytest.fixture
def encrypted_cc(devserver: DevServer, hermetic_env: Path, age_key: AgeKey) -> Path:
    config = devserver.profile("oidc_client_credentials_secret", "cc-secret")
    return make_encrypted_profile(hermetic_env / ".planet" / "svc", config, [age_key.recipient])


def doctor_steps(*args: str) -> tuple[int, dict[str, dict[str, object]], str]:
    result = run("doctor", *args, "--json")
    return result.exit_code, {s["name"]: s for s in json.loads(result.stdout)["steps"]}, result.stderr


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_doctor_passes_on_a_good_encrypted_profile(
    devserver: DevServer, encrypted_cc: Path, use_age_key: AgeKey, hermetic_env: Path
) -> None:
    """Read-only: the grant that proves the credentials leaves no token behind (it saved one before)."""
    before = _tree(hermetic_env)
    devserver.reset_stats()
    result = run("doctor", "svc")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["✓"] * 6, result.stdout
    assert "discovery OK, issuer matches" in result.stdout
    assert "token endpoint issued a token, expires in " in result.stdout
    assert "(not saved: doctor changes nothing)" in result.stdout
    assert devserver.stats()["token_requests"] == 1  # a real grant
    assert _tree(hermetic_env) == before  # nothing written: no token, no directory, no cache
    assert run("login", "svc").exit_code == 0  # with a valid token cached, doctor reports it, no grant
    devserver.reset_stats()
    cached = run("doctor", "svc")
    assert cached.exit_code == 0 and "✓ token" in cached.stdout and "valid (expires in" in cached.stdout
    assert devserver.stats()["token_requests"] == 0


def test_doctor_prints_a_failure_once(encrypted_cc: Path) -> None:
    """The ✗ line and its fix say what failed; the `Error:` line only names the step, never repeats it."""
    result = run("doctor", "svc")
    line = assert_one_error(result.stderr, result.stdout, result.exit_code)
    assert line == "Error: doctor: the `sops key decrypts` check failed (see above)"
    detail = next(text for text in result.stdout.splitlines() if text.startswith("✗"))
    assert "cannot decrypt the data key" in detail and "cannot decrypt" not in result.stderr


def test_doctor_pinpoints_a_missing_key(encrypted_cc: Path) -> None:
    code, steps, stderr = doctor_steps("svc")
    assert code == 1 and steps["schema valid"]["ok"] is True  # the schema check needs no key
    assert steps["sops key decrypts"]["ok"] is False and "SOPS_AGE_KEY_FILE" in str(
        steps["sops key decrypts"]["fix"]
    )
    assert steps["auth server"]["ok"] is None and steps["token"]["detail"] == "skipped"
    assert_one_error(stderr, "", code)
    text = run("doctor", "svc").stdout
    assert "✗ sops key decrypts" in text and "fix: set SOPS_AGE_KEY_FILE" in text


def test_doctor_pinpoints_a_server_that_is_down(devserver: DevServer, hermetic_env: Path) -> None:
    config = devserver.profile(
        "oidc_client_credentials_secret", "cc-secret", auth_server="http://127.0.0.1:9"
    )
    write_profile(hermetic_env / ".planet", "down", config)
    code, steps, _ = doctor_steps("down")
    assert code == 1 and steps["profile loads"]["ok"] is True
    assert steps["auth server"]["ok"] is False and "127.0.0.1:9" in str(steps["auth server"]["detail"])
    assert "reachable" in str(steps["auth server"]["fix"])


def test_doctor_pinpoints_a_bad_schema(devserver: DevServer, hermetic_env: Path) -> None:
    config = devserver.profile(
        "oidc_client_credentials_secret", "cc-secret", scopes="api.read", client_idd="x"
    )
    path = write_profile(hermetic_env / ".planet", "bad", config)
    code, steps, _ = doctor_steps("bad")
    assert code == 1 and steps["profile found"]["ok"] is True and steps["schema valid"]["ok"] is False
    detail = str(steps["schema valid"]["detail"])
    assert f"{path}: /scopes:" in detail and "/client_idd" in detail
    assert f"planet-profiles validate {path}" in str(steps["schema valid"]["fix"])


def test_doctor_of_a_profile_that_needs_a_login(devserver: DevServer, hermetic_env: Path) -> None:
    write_profile(hermetic_env / ".planet", "dev", devserver.profile("oidc_device_code", "device-public"))
    code, steps, _ = doctor_steps("dev")
    assert code == 1 and steps["auth server"]["ok"] is True
    assert steps["token"]["ok"] is False and steps["token"]["fix"] == "Log in: `planet-profiles login dev`"


def test_login_opens_the_browser_by_default(devserver: DevServer, hermetic_env: Path) -> None:
    """`login NAME` of an auth-code profile in a real process; `BROWSER` is the headless driver."""
    config = devserver.profile(
        "oidc_auth_code", "native-public", local_redirect_uri="http://127.0.0.1/callback"
    )
    write_profile(hermetic_env / ".planet", "ac", config)
    driver = Path(__file__).with_name("browser_driver.py")
    result = sh("login", "ac", env={"BROWSER": f"{sys.executable} {driver} %s"})
    assert result.returncode == 0, result.stderr
    assert "Logged in with profile ac" in result.stdout and "Traceback" not in result.stderr
    access_token = run("token", "ac").stdout.strip()
    assert hello(devserver, access_token) == 200
