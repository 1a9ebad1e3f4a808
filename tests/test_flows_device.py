"""The device authorization grant (RFC 8628) against the real dev server, with an injected clock and sleep.

`FakeTime` stands in for `time.monotonic` / `time.sleep` on the auth client: it records every wait, advances
its clock by it, and runs a hook (approve, deny, interrupt…) on a given sleep, so no test waits for real.
The user's side is played by `approve_device` (devserver/headless.py) on the provider's real pages.
"""

from __future__ import annotations

import re
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

import planet_auth_utils
import planet_profiles
from planet_profiles import (
    AuthContext,
    AuthError,
    InvalidGrantError,
    LoginRequiredError,
    OAuthError,
    _http,
)
from planet_profiles._flows import device as flow_device
from planet_profiles._flows.device import (
    DEVICE_CODE_GRANT,
    DeviceCodeAuthClient,
    DeviceCodeWithClientSecretAuthClient,
    DeviceCodeWithPubKeyAuthClient,
    render_qr,
)
from planet_profiles._http import HttpResponse
from tests.fixtures_devserver import DevServer, DevServerFactory, approve_device

CLIENT_TYPES = {
    "device-public": "oidc_device_code",
    "device-secret": "oidc_device_code_secret",
    "device-pubkey": "oidc_device_code_pubkey",
}


def device_config(
    server: DevServer, client_id: str = "device-public", *, key: str = "rsa", **extra: Any
) -> dict[str, Any]:
    pem = key if server.clients[client_id].private_key_files else None
    return server.profile(CLIENT_TYPES[client_id], client_id, key=pem, **extra)


class FakeTime:
    """An injected monotonic clock and sleep: records waits, advances the clock, calls `hooks[n]`."""

    def __init__(self, hooks: dict[int, Callable[[], None]] | None = None) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.hooks = hooks or {}

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        hook = self.hooks.get(len(self.sleeps))
        if hook is not None:
            hook()

    def install(self, ctx: AuthContext) -> AuthContext:
        client: Any = ctx.auth_client()
        client._clock = self.clock
        client._sleep = self.sleep
        return ctx


def context(server: DevServer, client_id: str = "device-public", **kwargs: Any) -> AuthContext:
    kwargs.setdefault("save_token_file", False)
    return planet_profiles.from_config(
        device_config(server, client_id), profile_name=f"dev-{client_id}", **kwargs
    )


def hello(server: DevServer, ctx: AuthContext) -> dict[str, Any]:
    answer = requests.get(server.hello_url, auth=ctx.request_authenticator(), timeout=10)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def device_polls(server: DevServer) -> tuple[int, int]:
    stats = server.stats()
    return stats["by_grant"].get(DEVICE_CODE_GRANT, 0), stats["errors_by_grant"].get(DEVICE_CODE_GRANT, 0)


# --- the seed API and the three client types --------------------------------------------------------------


@pytest.mark.integration
def test_seed_api_device_login_saves_token_calls_api_and_refreshes(
    devserver: DevServer, hermetic_env: Path
) -> None:
    ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context_from_custom_config(
        client_config=device_config(devserver),
        profile_name="my-device-profile",
        save_token_file=True,
        save_profile_config=False,
    )
    assert ctx.auth_client().__class__.__name__ == "DeviceCodeAuthClient"
    FakeTime().install(ctx)

    info = ctx.device_login_initiate()
    assert {"device_code", "user_code", "verification_uri", "verification_uri_complete", "expires_in"} <= set(
        info
    )
    approve_device(info["verification_uri_complete"])
    credential = ctx.device_login_complete(info)

    path = credential.path()
    assert path == hermetic_env / ".planet" / "my-device-profile" / "token.json"
    assert path is not None and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert credential.token is not None and credential.token.refresh_token  # offline_access
    assert "api.read" in hello(devserver, ctx)["scope"]

    # Refresh (RFC 6749 §6): the rotated refresh token is persisted, the new access token works.
    manager = ctx.token_manager
    assert manager is not None
    devserver.reset_stats()
    renewed = manager.renew_if_current(credential.token.access_token)
    assert devserver.stats()["by_grant"] == {"refresh_token": 1}
    assert renewed.access_token != credential.token.access_token
    assert renewed.refresh_token and renewed.refresh_token != credential.token.refresh_token
    reloaded = planet_profiles.from_config(device_config(devserver), profile_name="my-device-profile")
    assert reloaded.token_manager is not None and reloaded.token_manager.cached() == renewed
    assert "api.read" in hello(devserver, ctx)["scope"]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("client_id", "key", "cls"),
    [
        ("device-secret", "rsa", DeviceCodeWithClientSecretAuthClient),
        ("device-pubkey", "rsa", DeviceCodeWithPubKeyAuthClient),
        ("device-pubkey", "ec", DeviceCodeWithPubKeyAuthClient),
    ],
)
def test_confidential_clients(devserver: DevServer, client_id: str, key: str, cls: type[Any]) -> None:
    ctx = planet_profiles.from_config(
        device_config(devserver, client_id, key=key), profile_name="dev", save_token_file=False
    )
    assert type(ctx.auth_client()) is cls
    info: dict[str, Any] = {}
    FakeTime({1: lambda: approve_device(info["verification_uri_complete"])}).install(ctx)
    info.update(ctx.device_login_initiate())
    credential = ctx.device_login_complete(info)
    assert credential.path() is None
    assert hello(devserver, ctx)["client_id"] == client_id


@pytest.mark.integration
def test_wrong_client_secret_is_a_typed_error_without_the_secret(devserver: DevServer) -> None:
    config = device_config(devserver, "device-secret", client_secret="not-the-secret-value")
    ctx = planet_profiles.from_config(config, profile_name="dev", save_token_file=False)
    with pytest.raises(OAuthError) as caught:
        ctx.device_login_initiate()
    assert caught.value.error == "invalid_client"
    assert "device/auth" in str(caught.value)
    assert "not-the-secret-value" not in str(caught.value) + repr(caught.value)


@pytest.mark.integration
def test_requested_scopes_override_the_profile(devserver: DevServer) -> None:
    ctx = context(devserver)
    info: dict[str, Any] = {}
    FakeTime({1: lambda: approve_device(info["verification_uri_complete"])}).install(ctx)
    info.update(ctx.device_login_initiate(requested_scopes=["openid"]))
    credential = ctx.device_login_complete(info)
    assert credential.token is not None
    assert credential.token.refresh_token is None  # no offline_access asked for
    assert credential.token.scope == "openid"


# --- RFC 8628 §3.5: polling ---------------------------------------------------------------------------------


@pytest.mark.integration
def test_authorization_pending_polls_at_the_default_interval(devserver: DevServer) -> None:
    ctx = context(devserver)
    info: dict[str, Any] = {}
    fake = FakeTime({3: lambda: approve_device(info["verification_uri_complete"])})
    fake.install(ctx)
    info.update(ctx.device_login_initiate())
    assert "interval" not in info  # oidc-provider sends none: the client must use 5 s (§3.2)
    devserver.reset_stats()

    ctx.device_login_complete(info)

    assert fake.sleeps == [5.0, 5.0, 5.0]
    assert device_polls(devserver) == (3, 2)  # two authorization_pending answers, then the token


@pytest.mark.integration
def test_slow_down_adds_five_seconds_to_every_later_poll(devserver_factory: DevServerFactory) -> None:
    server = devserver_factory(device_interval=1)  # answers polls less than 1 s apart with slow_down
    ctx = context(server)
    info: dict[str, Any] = {}
    # The fake sleep returns at once, so every poll after the first is too fast for the server.
    fake = FakeTime({4: lambda: approve_device(info["verification_uri_complete"])})
    fake.install(ctx)
    info.update(ctx.device_login_initiate())
    assert info["interval"] == 1
    server.reset_stats()

    ctx.device_login_complete(info)

    # pending, slow_down (→ 6 s), slow_down (→ 11 s), token
    assert fake.sleeps == [1.0, 1.0, 6.0, 11.0]
    assert device_polls(server) == (4, 3)


@pytest.mark.integration
def test_first_poll_is_immediate_when_the_interval_has_passed_since_initiation(devserver: DevServer) -> None:
    ctx = context(devserver)
    fake = FakeTime()
    fake.install(ctx)
    info = ctx.device_login_initiate()
    approve_device(info["verification_uri_complete"])
    fake.now += 30  # the app showed the code; the user took 30 s
    devserver.reset_stats()
    ctx.device_login_complete(info)
    assert fake.sleeps == []
    assert device_polls(devserver) == (1, 0)


def test_data_from_elsewhere_waits_a_full_interval_first() -> None:
    client = DeviceCodeAuthClient(_offline_config())
    fake = FakeTime()
    client._clock, client._sleep = fake.clock, fake.sleep
    client.token_request = lambda form: _token()  # type: ignore[method-assign]
    client.device_login_complete({"device_code": "dc", "expires_in": 600, "interval": 7})
    assert fake.sleeps == [7.0]


# --- stopping: denied, expired, cancelled -------------------------------------------------------------------


@pytest.mark.integration
def test_access_denied_is_a_typed_error_and_saves_nothing(devserver: DevServer, hermetic_env: Path) -> None:
    ctx = context(devserver, "device-secret", save_token_file=True)
    FakeTime().install(ctx)
    info = ctx.device_login_initiate()
    approve_device(info["verification_uri_complete"], deny=True)

    with pytest.raises(OAuthError) as caught:
        ctx.device_login_complete(info)

    assert isinstance(caught.value, planet_profiles.AccessDeniedError)
    assert caught.value.error == "access_denied"
    assert "denied" in str(caught.value) and "device_login_initiate" in str(caught.value)
    assert not (hermetic_env / ".planet" / "dev-device-secret" / "token.json").exists()
    assert ctx.token_manager is not None and ctx.token_manager.cached() is None


@pytest.mark.integration
def test_local_expiry_stops_polling(devserver: DevServer) -> None:
    ctx = context(devserver)
    fake = FakeTime()
    fake.install(ctx)
    info = ctx.device_login_initiate()
    devserver.reset_stats()

    with pytest.raises(OAuthError) as caught:
        ctx.device_login_complete({**info, "expires_in": 12})

    # polls at +5 s and +10 s; a third at +15 s would be after the code expired (+12 s)
    assert fake.sleeps == [5.0, 5.0]
    assert device_polls(devserver) == (2, 2)
    assert isinstance(caught.value, planet_profiles.ExpiredTokenError)
    assert caught.value.error == "expired_token"
    assert caught.value.status_code is None  # decided locally
    assert "expired" in str(caught.value)


def test_expired_token_from_the_server_is_a_typed_error() -> None:
    client = DeviceCodeAuthClient(_offline_config(), file="profile.json")
    fake = FakeTime()
    client._clock, client._sleep = fake.clock, fake.sleep
    answers = iter(["authorization_pending", "expired_token"])

    def token_request(form: Any) -> Any:
        raise OAuthError("refused", error=next(answers), status_code=400)

    client.token_request = token_request  # type: ignore[method-assign]
    with pytest.raises(OAuthError) as caught:
        client.device_login_complete({"device_code": "dc", "expires_in": 600})
    assert isinstance(caught.value, planet_profiles.ExpiredTokenError)
    assert caught.value.error == "expired_token"
    assert caught.value.status_code == 400
    assert caught.value.file == "profile.json"
    assert "expired at the server" in str(caught.value)
    assert fake.sleeps == [5.0, 5.0]


def test_other_refusals_propagate_unchanged() -> None:
    client = DeviceCodeAuthClient(_offline_config())
    client._sleep = lambda seconds: None
    refused = InvalidGrantError("refused", error="invalid_grant", status_code=400)

    def token_request(form: Any) -> Any:
        raise refused

    client.token_request = token_request  # type: ignore[method-assign]
    with pytest.raises(InvalidGrantError) as caught:
        client.device_login_complete({"device_code": "dc", "expires_in": 600})
    assert caught.value is refused


@pytest.mark.integration
def test_ctrl_c_while_waiting_leaves_no_token_file(devserver: DevServer, hermetic_env: Path) -> None:
    ctx = context(devserver, save_token_file=True)

    def interrupt() -> None:
        raise KeyboardInterrupt

    FakeTime({2: interrupt}).install(ctx)
    with pytest.raises(KeyboardInterrupt):
        ctx.login(allow_tty_prompt=True)
    assert not list((hermetic_env).rglob("token*.json"))
    assert ctx.token_manager is not None and ctx.token_manager.cached() is None
    assert ctx.auth_client()._initiated == {}  # type: ignore[attr-defined]


# --- login(): what the user sees --------------------------------------------------------------------------


def login_at_the_terminal(
    ctx: AuthContext, capsys: pytest.CaptureFixture[str], user: Callable[[str], None]
) -> tuple[Any, str]:
    """`ctx.login(allow_tty_prompt=True)`; when it first waits, `user(stderr_text)` approves."""
    shown: list[str] = []

    def user_reads_the_terminal() -> None:
        shown.append(capsys.readouterr().err)
        user(shown[0])

    FakeTime({1: user_reads_the_terminal}).install(ctx)
    credential = ctx.login(allow_tty_prompt=True)
    return credential, shown[0]


def types_the_code(text: str) -> None:
    found = re.search(r"open (\S+) and enter the code: (\S+)", text)
    assert found, text
    approve_device(verification_uri=found[1], user_code=found[2])


def opens_the_complete_uri(text: str) -> None:
    found = re.search(r"Or open (\S+) \(", text)
    assert found, text
    approve_device(found[1])


@pytest.mark.integration
def test_login_with_tty_prompt_prints_uri_code_and_qr(
    devserver: DevServer, capsys: pytest.CaptureFixture[str]
) -> None:
    credential, text = login_at_the_terminal(context(devserver), capsys, types_the_code)

    assert credential.token is not None
    assert f"{devserver.issuer}/device?user_code=" in text  # verification_uri_complete
    assert "Ctrl-C" in text
    qr = [line for line in text.splitlines() if line and set(line) <= set("█▀▄ ")]
    assert len(qr) >= 10 and len({len(line) for line in qr}) == 1
    assert credential.token.access_token not in text + capsys.readouterr().out


@pytest.mark.integration
def test_login_without_segno_prints_no_qr(
    devserver: DevServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "segno", None)  # import segno → ImportError
    credential, text = login_at_the_terminal(context(devserver), capsys, opens_the_complete_uri)
    assert credential.token is not None
    assert "enter the code" in text
    assert "█" not in text and "scan" not in text


@pytest.mark.integration
def test_login_with_browser_opens_the_complete_uri(
    devserver: DevServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import webbrowser

    opened: list[str] = []

    def browser(url: str, *args: Any, **kwargs: Any) -> bool:
        opened.append(url)
        approve_device(url)  # the user approves in the browser that opened
        return True

    monkeypatch.setattr(webbrowser, "open", browser)
    ctx = context(devserver)
    FakeTime().install(ctx)
    credential = ctx.login(allow_open_browser=True)
    assert credential.token is not None
    assert len(opened) == 1 and opened[0].startswith(f"{devserver.issuer}/device?user_code=")
    assert opened[0] in capsys.readouterr().err  # also shown, so the user can compare the code


def test_login_needs_a_prompt_or_a_browser() -> None:
    ctx = planet_profiles.from_config(_offline_config_dict(), profile_name="dev", save_token_file=False)
    with pytest.raises(LoginRequiredError) as caught:
        ctx.login()  # no allow_*: no network call either (the auth server does not exist)
    assert "device_login_initiate" in str(caught.value)
    assert "device_login_complete" in str(caught.value)


def test_browser_is_not_opened_for_non_http_uris(monkeypatch: pytest.MonkeyPatch) -> None:
    import webbrowser

    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: opened.append(url))
    flow_device.open_verification_uri({"verification_uri": "javascript:alert(1)"})
    flow_device.open_verification_uri({"verification_uri": "https://login.example.com/device"})
    assert opened == ["https://login.example.com/device"]


# --- bad answers and bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "member"),
    [
        (b"[]", "JSON object"),
        (b"not json", "JSON object"),
        (b'{"user_code": "U", "verification_uri": "https://x/d", "expires_in": 600}', "device_code"),
        (b'{"device_code": "D", "verification_uri": "https://x/d", "expires_in": 600}', "user_code"),
        (b'{"device_code": "D", "user_code": "U", "expires_in": 600}', "verification_uri"),
        (b'{"device_code": "D", "user_code": "U", "verification_uri": "https://x/d"}', "expires_in"),
        (
            b'{"device_code": "D", "user_code": "U", "verification_uri": "https://x/d", "expires_in": 6, '
            b'"interval": "5"}',
            "interval",
        ),
    ],
)
def test_malformed_device_authorization_response(
    monkeypatch: pytest.MonkeyPatch, body: bytes, member: str
) -> None:
    # fault injection: the dev server never answers like this
    monkeypatch.setattr(_http, "request", lambda *a, **k: HttpResponse(200, {}, body))
    client = DeviceCodeAuthClient(_offline_config(), file="profile.json")
    with pytest.raises(OAuthError) as caught:
        client.device_login_initiate()
    assert member in str(caught.value)
    assert caught.value.file == "profile.json"
    assert caught.value.key == "device_authorization_endpoint"
    assert client._initiated == {}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({}, "device_code"),
        ({"device_code": "", "expires_in": 600}, "device_code"),
        ({"device_code": "dc"}, "expires_in"),
        ({"device_code": "dc", "expires_in": -1}, "expires_in"),
        ({"device_code": "dc", "expires_in": 600, "interval": "5"}, "interval"),
    ],
)
def test_complete_rejects_data_not_from_initiate(data: dict[str, Any], key: str) -> None:
    client = DeviceCodeAuthClient(_offline_config())
    with pytest.raises(AuthError) as caught:
        client.device_login_complete(data)
    assert caught.value.key == key
    assert "device_login_initiate" in str(caught.value)


def test_render_qr_draws_two_modules_per_character() -> None:
    import segno  # the `qr` extra, part of `dev`: missing is a broken install, not a skip
    text = "http://127.0.0.1:1/device?user_code=ABCD-EFGH"
    qr = render_qr(text)
    assert qr is not None
    lines = qr.splitlines()
    size = len(lines[0])  # 33 = version 3 (29 modules) + a 2-module quiet zone on each side
    assert size == 33 and len(lines) == (size + 1) // 2
    assert all(len(line) == size for line in lines)
    assert lines[0] == "█" * size  # quiet zone: light modules are drawn
    # Read the glyphs back into modules (True = dark): they must be segno's symbol, row for row.
    halves = {"█": (False, False), "▀": (False, True), "▄": (True, False), " ": (True, True)}
    drawn = [[halves[char][half] for char in line] for line in lines for half in (0, 1)]
    symbol = segno.make(text, micro=False).matrix_iter(border=2)
    assert drawn[:size] == [[bool(module) for module in row] for row in symbol]


def test_render_qr_without_segno(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "segno", None)
    assert render_qr("https://example.com") is None


# --- helpers for tests that need no server ----------------------------------------------------------------


def _offline_config_dict() -> dict[str, Any]:
    return {
        "client_type": "oidc_device_code",
        "auth_server": "https://login.invalid",
        "client_id": "cli",
        "device_authorization_endpoint": "https://login.invalid/device/auth",
        "token_endpoint": "https://login.invalid/token",
    }


def _offline_config() -> Any:
    from planet_profiles._models import parse_config

    return parse_config(_offline_config_dict(), file="profile.json")


def _token() -> Any:
    from planet_profiles._tokens import Token

    return Token.from_response({"access_token": "at", "token_type": "Bearer", "expires_in": 60})
