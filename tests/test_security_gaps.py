"""Tests for the checklist items (docs/security-checklist.md) that no other test module pins down (see
docs/security.md for the map).

Real parts where they exist: the dev server (`devserver`), real sops with age keys, the library's own
loopback listener and the system-browser driver. Where a behaviour can only be seen on the wire or only
happens when a server misbehaves, a small loopback `Peer` records requests and answers as scripted: an API
that redirects elsewhere, a token endpoint that fails, an introspection endpoint that says odd things, a
discovery document naming another issuer. A fake `sops` appears only to fail in the middle of an encrypt.
Time is injected (`TokenManager(clock=...)`); nothing here waits for real. Retries, back-off, `Retry-After`,
timeouts and the early renewal that fails for a transient reason are tests/test_faults.py's.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import hashlib
import json
import os
import shlex
import socket
import socketserver
import stat
import sys
import threading
import time
import webbrowser
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote_plus, urlsplit

import httpx
import pytest
import requests

import planet_profiles
from planet_profiles import (
    AuthError,
    ConfigError,
    DiscoveryError,
    LoginRequiredError,
    OAuthError,
    SopsError,
    StorageError,
    Token,
    TokenFileError,
    _http,
)
from planet_profiles._clients import make_client
from planet_profiles._flows.authcode import _Attempt
from planet_profiles._http import DEFAULT_POLICY
from planet_profiles._sops import Sops
from planet_profiles._token_manager import TokenManager
from planet_profiles._tokens import MemoryTokenStore, SopsTokenStore
from tests.fixtures_devserver import DevServer
from tests.fixtures_keys import AgeKey, make_encrypted_profile

DRIVER = Path(__file__).resolve().with_name("browser_driver.py")
LOGIN_TIMEOUT = 20.0  # a broken login fails the test instead of waiting 5 minutes
CLIENT_SECRET = "cs-SECRET-1f2e3d"
ACCESS_TOKEN = "at-SECRET-live-9c8b"


# ---------------------------------------------------------------- a recording loopback peer

Answer = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Seen:
    """One request a `Peer` received; header names are lower case."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}


def json_answer(status: int, payload: Any, **headers: str) -> Answer:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(payload).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:  # skip HTTPServer's getfqdn(): a reverse DNS lookup may stall
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])


@dataclass
class Peer:
    """A loopback HTTP server on `host` that records every request and answers `respond(seen)`."""

    respond: Callable[[Seen], Answer]
    host: str = "127.0.0.1"
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                peer.seen.append(seen)
                status, headers, payload = peer.respond(seen)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle  # noqa: N815 - the http.server API

        self._server = _Server((self.host, 0), Handler)
        self.url = f"http://{self.host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


PeerFactory = Callable[..., Peer]


@pytest.fixture
def peer() -> Iterator[PeerFactory]:
    """`peer(respond, host="127.0.0.1")` -> a running `Peer`, closed after the test."""
    made: list[Peer] = []

    def make(respond: Callable[[Seen], Answer], host: str = "127.0.0.1") -> Peer:
        made.append(Peer(respond, host))
        return made[-1]

    yield make
    for running in made:
        running.close()


@pytest.fixture
def trap() -> Iterator[socket.socket]:
    """A listening loopback socket that never accepts: a connection attempt would wait in its backlog."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def assert_never_connected(sock: socket.socket) -> None:
    with pytest.raises(BlockingIOError):  # an empty backlog: nobody connected
        sock.accept()


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, dict[str, str]]]:
    """Every request the library sends through `_http.request`: (method, url, form), passed on unchanged."""
    sent: list[tuple[str, str, dict[str, str]]] = []
    original = _http.request

    def spy(method: str, url: str, *, data: Any = None, **kwargs: Any) -> _http.HttpResponse:
        sent.append((method, url, dict(data) if isinstance(data, Mapping) else {}))
        return original(method, url, data=data, **kwargs)

    monkeypatch.setattr(_http, "request", spy)
    return sent


def live_token(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "_iat": now, "_exp": now + 3600, **extra}


def expired_token(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"access_token": "at-1", "refresh_token": "rt-1", "_iat": now - 400, "_exp": now - 100, **extra}


def cc_at(url: str, **extra: Any) -> dict[str, Any]:
    """A client-credentials profile whose token endpoint is `url`/token (no discovery)."""
    return {
        "client_type": "oidc_client_credentials_secret",
        "auth_server": url,
        "token_endpoint": f"{url}/token",
        "client_id": "svc",
        "client_secret": CLIENT_SECRET,
        **extra,
    }


def device_at(url: str, **extra: Any) -> dict[str, Any]:
    """A public device-code profile whose endpoints are on `url` (no discovery)."""
    return {
        "client_type": "oidc_device_code",
        "auth_server": url,
        "token_endpoint": f"{url}/token",
        "client_id": "device-public",
        **extra,
    }


def files_containing(root: Path, needle: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def fake_sops(directory: Path, body: str) -> Path:
    """A shell script named `sops`: fault injection only (the real sops never fails this way on purpose)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "sops"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


# ---------------------------------------------------------------- SEC-04, SEC-05, SEC-06, SEC-07: login


@pytest.fixture
def system_browser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """`BROWSER` is the headless driver (tests/browser_driver.py); returns the path of its report."""
    report = tmp_path / "browser-report.json"
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # webbrowser reads BROWSER once per process
    monkeypatch.setattr(webbrowser, "_browsers", {})
    monkeypatch.setenv("BROWSER_DRIVER_REPORT", str(report))
    monkeypatch.setenv("BROWSER", f"{shlex.quote(sys.executable)} {shlex.quote(str(DRIVER))} %s")
    return report


def native_login_context(server: DevServer, **extra: Any) -> planet_profiles.AuthContext:
    config = {
        "client_type": "oidc_auth_code",
        "auth_server": server.issuer,
        "client_id": "native-public",
        "scopes": ["openid"],
        "local_redirect_uri": "http://127.0.0.1/callback",
        **extra,
    }
    return planet_profiles.from_config(config, profile_name="login", save_token_file=False)


def authorize_query(report: Path) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(json.loads(report.read_text())["authorize_url"]).query))


@pytest.mark.integration
def test_token_request_repeats_the_authorize_redirect_uri(
    devserver: DevServer, system_browser: Path, wire: list[tuple[str, str, dict[str, str]]]
) -> None:
    """SEC-05: the exact redirect URI of the authorization request (with the listener's port) goes into
    the token request."""
    native_login_context(devserver).login(allow_open_browser=True, timeout=LOGIN_TIMEOUT)

    redirect_uri = authorize_query(system_browser)["redirect_uri"]
    exchanges = [form for _, _, form in wire if form.get("grant_type") == "authorization_code"]
    assert len(exchanges) == 1
    assert exchanges[0]["redirect_uri"] == redirect_uri
    assert redirect_uri.startswith("http://127.0.0.1:") and redirect_uri.endswith("/callback")


@pytest.mark.integration
def test_listener_is_gone_once_the_login_is_done(devserver: DevServer, system_browser: Path) -> None:
    """SEC-04: one good callback, then the loopback listener shuts down."""
    native_login_context(devserver).login(allow_open_browser=True, timeout=LOGIN_TIMEOUT)

    port = urlsplit(authorize_query(system_browser)["redirect_uri"]).port
    assert port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


@pytest.mark.integration
def test_only_the_code_flow_is_ever_requested(
    devserver: DevServer,
    system_browser: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SEC-07: `response_type=code` in the browser; the no-browser mode prints the (same kind of) URL."""
    native_login_context(devserver).login(allow_open_browser=True, timeout=LOGIN_TIMEOUT)
    assert authorize_query(system_browser)["response_type"] == "code"

    monkeypatch.setattr("builtins.input", lambda *args: "")  # the user reads the URL, then gives up
    with pytest.raises(LoginRequiredError, match="no code or URL"):
        native_login_context(devserver).login(allow_tty_prompt=True)
    printed = [line.strip() for line in capsys.readouterr().err.splitlines() if "/auth?" in line]
    assert len(printed) == 1 and printed[0].startswith(f"{devserver.issuer}/auth?")
    query = dict(parse_qsl(urlsplit(printed[0]).query))
    assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
    assert "token" not in query["response_type"].split()


def _offline_auth_code_client(name: str, auth_server: str) -> Any:
    """An auth-code client of the public loopback profile, for checks made before any request."""
    return planet_profiles.from_config(
        {
            "client_type": "oidc_auth_code",
            "auth_server": auth_server,
            "client_id": "native-public",
            "local_redirect_uri": "http://127.0.0.1/callback",
        },
        profile_name=name,
        save_token_file=False,
    ).auth_client()


@pytest.mark.parametrize(
    "key",
    [
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
    ],
)
def test_extra_parameters_cannot_weaken_the_request(key: str) -> None:
    """SEC-07 (no implicit grant via `response_type=token`), SEC-01/02/05: refused before any request."""
    client = _offline_auth_code_client("extra", "http://127.0.0.1:9")

    with pytest.raises(AuthError, match=f"`{key}`"):
        client.login(allow_open_browser=True, allow_tty_prompt=True, extra={key: "token"})


def test_callback_from_another_issuer_is_refused() -> None:
    """SEC-06 / RFC 9207: a present `iss` must match (also when not advertised); an `error` from another
    issuer is a mix-up, not the server's refusal."""
    client: Any = _offline_auth_code_client("iss", "http://127.0.0.1:9/")
    attempt = _Attempt()
    check = client._callback_checker(attempt, False)
    good = f"code=c1&state={attempt.state}"
    evil = "iss=https%3A%2F%2Fevil.example"

    assert check(good) == "c1"
    assert check(f"{good}&iss=http%3A%2F%2F127.0.0.1%3A9%2F") == "c1"  # same issuer, trailing slash
    with pytest.raises(AuthError, match="RFC 9207"):
        check(f"{good}&{evil}")
    with pytest.raises(AuthError, match="RFC 9207"):
        client._callback_checker(attempt, True)(good)  # advertised: `iss` is required
    with pytest.raises(AuthError, match="RFC 9207") as mixed_up:
        check(f"error=access_denied&state={attempt.state}&{evil}")
    assert not isinstance(mixed_up.value, OAuthError)
    with pytest.raises(OAuthError) as denied:
        check(f"error=access_denied&state={attempt.state}")
    assert denied.value.error == "access_denied"


# ---------------------------------------------------------------- CS-01: client_secret_basic / _post

ODD_ID = "svc:team/ü +%&="
ODD_SECRET = "p@ss:w/rd +%&=ü~"


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_client_secret_on_the_wire(peer: PeerFactory, method: str) -> None:
    """RFC 6749 §2.3.1: Basic carries the form-urlencoded id and secret; `_post` carries them in the form."""
    server = peer(lambda seen: json_answer(200, {"access_token": "at", "token_type": "Bearer"}))
    config = cc_at(server.url, client_id=ODD_ID, client_secret=ODD_SECRET, client_auth_method=method)
    planet_profiles.from_config(config, profile_name="cs01", save_token_file=False).auth_client().grant()

    [seen] = server.seen
    form = seen.form()
    assert form["grant_type"] == "client_credentials"
    if method == "client_secret_basic":
        scheme, _, value = seen.headers["authorization"].partition(" ")
        raw = base64.b64decode(value).decode("ascii")  # form-urlencoding leaves only ASCII
        encoded_id, _, encoded_secret = raw.partition(":")  # the id's own ':' is encoded
        assert scheme == "Basic"
        assert (unquote_plus(encoded_id), unquote_plus(encoded_secret)) == (ODD_ID, ODD_SECRET)
        assert "client_id" not in form and "client_secret" not in form
    else:
        assert "authorization" not in seen.headers
        assert (form["client_id"], form["client_secret"]) == (ODD_ID, ODD_SECRET)


@pytest.mark.integration
@pytest.mark.parametrize(
    ("client_id", "method", "other"),
    [("cc-secret", "client_secret_basic", "client_secret_post"),
     ("cc-secret-post", "client_secret_post", "client_secret_basic")],
)
def test_both_secret_methods_work_against_the_real_server(
    devserver: DevServer, client_id: str, method: str, other: str
) -> None:
    """CS-01 against a server that enforces each client's registered method (the dev server, as Okta and
    Auth0 do): the registered method works; the other one, named by the profile, is `invalid_client` (a named
    method is never negotiated); a wrong secret sent either way is `invalid_client` without the secret in
    the message."""
    profile = {**devserver.profile("oidc_client_credentials_secret", client_id), "client_auth_method": method}
    ctx = planet_profiles.from_config(profile, profile_name="cs", save_token_file=False)
    answer = requests.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10)
    assert answer.status_code == 200 and answer.json()["client_id"] == client_id

    mismatched = planet_profiles.from_config(
        {**profile, "client_auth_method": other}, profile_name="cs-other", save_token_file=False
    )
    with pytest.raises(OAuthError) as refused:
        mismatched.request_authenticator().header_value()
    assert refused.value.error == "invalid_client"

    for named in (method, other):
        wrong = planet_profiles.from_config(
            {**profile, "client_secret": "wrong-SECRET-value", "client_auth_method": named},
            profile_name="cs-wrong",
            save_token_file=False,
        )
        with pytest.raises(OAuthError) as caught:
            wrong.request_authenticator().header_value()
        assert caught.value.error == "invalid_client" and "wrong-SECRET-value" not in str(caught.value)


# ---------------------------------------------------------------- TOK-02: credentials stay on their hosts


def _get_status(kind: str, url: str, auth: Any) -> int:
    if kind == "requests":
        return requests.get(url, auth=auth, timeout=5).status_code
    if kind == "httpx":
        with httpx.Client(auth=auth, follow_redirects=True, timeout=5) as client:
            return client.get(url).status_code

    async def fetch() -> int:
        async with httpx.AsyncClient(auth=auth, follow_redirects=True, timeout=5) as client:
            return (await client.get(url)).status_code

    return asyncio.run(fetch())


@pytest.mark.parametrize("kind", ["requests", "httpx", "httpx-async"])
@pytest.mark.parametrize("credential", ["bearer", "static_apikey"])
def test_a_redirect_to_another_host_drops_the_authorization_header(
    peer: PeerFactory, kind: str, credential: str
) -> None:
    elsewhere = peer(lambda seen: (200, {}, b"landed"), host="127.0.0.2")
    api = peer(lambda seen: (302, {"Location": f"{elsewhere.url}/landing"}, b""))
    if credential == "bearer":
        ctx = planet_profiles.from_config(
            cc_at(api.url), profile_name="tok02", initial_token_data=live_token(), save_token_file=False
        )
        expected = f"Bearer {ACCESS_TOKEN}"
    else:
        config = {"client_type": "static_apikey", "api_key": "key-SECRET-7", "bearer_token_prefix": "api-key"}
        ctx = planet_profiles.from_config(config, profile_name="tok02", save_token_file=False)
        expected = "api-key key-SECRET-7"

    assert _get_status(kind, f"{api.url}/data", ctx.request_authenticator()) == 200

    assert [s.headers.get("authorization") for s in api.seen] == [expected]
    assert [s.path for s in elsewhere.seen] == ["/landing"]
    assert "authorization" not in elsewhere.seen[0].headers


@pytest.mark.parametrize("kind", ["httpx", "httpx-async"])
def test_a_401_from_the_redirect_target_does_not_renew_the_token(peer: PeerFactory, kind: str) -> None:
    """A host that never saw the token cannot make the client spend a refresh (or a grant) by answering 401;
    requests already behaves so (its hook sees the redirected request, which carries no header)."""
    auth_server = peer(lambda seen: json_answer(200, {"access_token": "at-new", "token_type": "Bearer"}))
    elsewhere = peer(lambda seen: (401, {}, b"who are you"), host="127.0.0.2")
    api = peer(lambda seen: (302, {"Location": f"{elsewhere.url}/landing"}, b""))
    ctx = planet_profiles.from_config(
        cc_at(auth_server.url), profile_name="tok02c", initial_token_data=live_token(), save_token_file=False
    )

    assert _get_status(kind, f"{api.url}/data", ctx.request_authenticator()) == 401

    assert auth_server.seen == [] and len(api.seen) == 1
    assert all("authorization" not in s.headers for s in elsewhere.seen)


def test_the_client_secret_never_follows_a_redirect(peer: PeerFactory) -> None:
    """The library's own HTTP calls never follow redirects: a token endpoint that redirects is an error."""
    elsewhere = peer(lambda seen: json_answer(200, {"access_token": "stolen"}), host="127.0.0.2")
    auth_server = peer(lambda seen: (307, {"Location": f"{elsewhere.url}/token"}, b""))
    ctx = planet_profiles.from_config(cc_at(auth_server.url), profile_name="tok02b", save_token_file=False)

    with pytest.raises(OAuthError) as caught:
        ctx.request_authenticator().header_value()

    assert caught.value.status_code == 307 and CLIENT_SECRET not in str(caught.value)
    assert len(auth_server.seen) == 1 and elsewhere.seen == []


# ---------------------------------------------------------------- TOK-03: early renewal that is refused


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_refused_early_renewal_is_not_masked(peer: PeerFactory) -> None:
    """Only transient failures are absorbed in the advisory window (tests/test_faults.py covers those); a
    refusal such as `invalid_client` surfaces at once, even while the current token is still valid."""
    server = peer(lambda seen: json_answer(401, {"error": "invalid_client"}))
    old = Token({"access_token": "at-old", "_iat": 1000, "_exp": 1100})
    client = make_client(planet_profiles.parse_config(cc_at(server.url)))
    manager = TokenManager(client, MemoryTokenStore(old), clock=FakeClock(1095.0))

    with pytest.raises(OAuthError) as caught:
        manager.token()
    # One token request (no discovery here: nothing to negotiate, so nothing is retried).
    assert caught.value.error == "invalid_client" and [s.path for s in server.seen].count("/token") == 1


# ---------------------------------------------------------------- TOK-06: refresh responses, persist first


def test_a_refresh_response_without_refresh_token_keeps_the_old_one_on_disk(
    peer: PeerFactory, hermetic_env: Path
) -> None:
    server = peer(
        lambda seen: json_answer(200, {"access_token": "at-2", "expires_in": 300, "token_type": "Bearer"})
    )
    ctx = planet_profiles.from_config(
        device_at(server.url), profile_name="tok06", initial_token_data=expired_token()
    )

    assert ctx.request_authenticator().header_value() == "Bearer at-2"

    assert [s.form() for s in server.seen] == [
        {"grant_type": "refresh_token", "refresh_token": "rt-1", "client_id": "device-public"}
    ]
    token_file = ctx.token_file_path()
    assert token_file == hermetic_env / ".planet" / "tok06" / "token.json"
    saved = json.loads(token_file.read_text())
    assert (saved["access_token"], saved["refresh_token"]) == ("at-2", "rt-1")


def test_a_new_token_that_cannot_be_saved_is_never_used(peer: PeerFactory, hermetic_env: Path) -> None:
    rotated = {"access_token": "at-NEW", "refresh_token": "rt-NEW", "expires_in": 300, "token_type": "Bearer"}
    auth_server = peer(lambda seen: json_answer(200, rotated))
    api = peer(lambda seen: (200, {}, b"ok"))
    ctx = planet_profiles.from_config(
        device_at(auth_server.url), profile_name="tok06b", initial_token_data=expired_token()
    )
    token_file = ctx.token_file_path()
    assert token_file is not None
    before = token_file.read_bytes()

    def disk_full(*args: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.MonkeyPatch.context() as patch, pytest.raises(StorageError) as caught:
        patch.setattr(os, "replace", disk_full)
        requests.get(f"{api.url}/data", auth=ctx.request_authenticator(), timeout=5)

    assert len(auth_server.seen) == 1 and api.seen == []  # the new token never left the process
    assert token_file.read_bytes() == before
    assert "at-NEW" not in str(caught.value) and "rt-NEW" not in str(caught.value)
    cached = ctx.token_manager.cached()  # type: ignore[union-attr]
    assert cached is not None and cached.access_token == "at-1"


# ---------------------------------------------------------------- TOK-07: modes and where tokens live


def test_a_group_readable_encrypted_token_file_is_refused_before_sops_runs(tmp_path: Path) -> None:
    marker = tmp_path / "sops-ran"
    sops = Sops(fake_sops(tmp_path / "bin", f"touch {shlex.quote(str(marker))}; exit 1"))
    path = tmp_path / "home" / ".planet" / "p" / "token.sops.json"
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    path.chmod(0o640)
    store = SopsTokenStore(path, profile_file=tmp_path / "auth_client.sops.json", sops=sops)

    with pytest.raises(TokenFileError) as caught:
        store.load()

    assert f"chmod 600 {path}" in str(caught.value) and caught.value.file == str(path)
    assert not marker.exists()


@pytest.mark.integration
def test_tokens_of_a_checkout_profile_live_under_home_not_in_the_checkout(
    devserver: DevServer, tmp_path: Path, hermetic_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = tmp_path / "team-repo" / "profiles"
    profile = checkout / "svc" / "auth_client.json"
    profile.parent.mkdir(parents=True)
    profile.write_text(json.dumps(devserver.profile("oidc_client_credentials_secret", "cc-secret")))
    profile.chmod(0o600)
    monkeypatch.setenv("PL_AUTH_PROFILE_PATH", str(checkout))
    before = tree(checkout)

    ctx = planet_profiles.open_profile("svc")
    assert requests.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10).status_code == 200

    token_file = hermetic_env / ".planet" / "svc" / "token.json"
    assert ctx.token_file_path() == token_file and token_file.exists()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    for directory in (token_file.parent, token_file.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert tree(checkout) == before  # no token, no lock file, nothing rewritten


# ---------------------------------------------------------------- TOK-08 / TOK-10: sops failing or refusing

FAILS_AFTER_READING = """
head -c 300
cat > /dev/null
echo "error encrypting the data key: injected failure" >&2
exit 1
"""


@pytest.mark.parametrize("target", ["profile", "token"])
def test_plaintext_never_on_disk_when_sops_fails_mid_encrypt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, use_age_key: AgeKey
) -> None:
    """TOK-08: sops reads the plaintext, writes part of it back to stdout, then fails."""
    private_tmp = tmp_path / "TMPDIR"
    private_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    sops = Sops(fake_sops(tmp_path / "bin", FAILS_AFTER_READING))
    directory = tmp_path / "home" / ".planet" / "p"
    directory.mkdir(parents=True)
    profile = directory / "auth_client.sops.json"
    profile.write_text(json.dumps({"client_type": "none", "sops": {"age": [{"recipient": "age1recipient"}]}}))
    secret = "PLAINTEXT-SECRET-0a9b8c7d"
    before = tree(directory)

    with pytest.raises(SopsError) as caught:
        if target == "profile":
            sops.encrypt({"client_secret": secret, "client_id": "x"}, profile, age_recipients=["age1x"])
        else:
            store = SopsTokenStore(directory / "token.sops.json", profile_file=profile, sops=sops)
            store.save(Token({"access_token": secret, "refresh_token": secret + "-rt"}))

    assert caught.value.returncode == 1 and "injected failure" in str(caught.value)
    assert secret not in str(caught.value) + repr(caught.value)
    assert tree(directory) == before  # nothing written, nothing replaced
    assert list(private_tmp.iterdir()) == []
    assert files_containing(tmp_path, secret) == []


def test_tokens_of_an_encrypted_profile_are_never_written_in_clear_as_a_fallback(
    tmp_path: Path, age_key: AgeKey
) -> None:
    """TOK-10/TOK-11: without a key of their own, tokens cannot be encrypted: refuse, never fall back to
    plaintext nor to the recipients the profile file lists."""
    marker = tmp_path / "sops-ran"
    sops = Sops(fake_sops(tmp_path / "bin", f"touch {shlex.quote(str(marker))}; exit 1"))
    profile = tmp_path / "auth_client.sops.json"
    profile.write_text(
        json.dumps({"client_type": "none", "sops": {"age": [{"recipient": age_key.recipient}]}})
    )
    token_file = tmp_path / "home" / "token.sops.json"
    store = SopsTokenStore(token_file, profile_file=profile, sops=sops)

    with pytest.raises(StorageError, match="PL_AUTH_PLAINTEXT_TOKENS") as caught:
        store.save(Token({"access_token": "at-PLAINTEXT-SECRET"}))

    assert caught.value.file == str(token_file) and caught.value.key == "PL_AUTH_TOKEN_RECIPIENTS"
    assert "SOPS_AGE_KEY_FILE" in str(caught.value) and not marker.exists()
    assert files_containing(tmp_path, "at-PLAINTEXT-SECRET") == []


# ---------------------------------------------------------------- NET-01: the default policy


def test_the_default_policy_has_timeouts_and_bounded_retries() -> None:
    """Every library call uses `DEFAULT_POLICY` unless given another; tests/test_faults.py checks retries,
    back-off, `Retry-After` and timeouts with an injected policy, so the default itself is checked here."""
    connect, read = DEFAULT_POLICY.timeout
    assert 0 < connect <= 30 and 0 < read <= 60 and 1 <= DEFAULT_POLICY.attempts <= 5


# ---------------------------------------------------------------- REV-01: logout


@pytest.mark.integration
def test_logout_revokes_the_refresh_token_before_the_access_token(
    devserver: DevServer, hermetic_env: Path, wire: list[tuple[str, str, dict[str, str]]]
) -> None:
    profile = devserver.profile(
        "oidc_resource_owner_secret", "ro-secret", scopes=["openid", "offline_access"]
    )
    ctx = planet_profiles.from_config(profile, profile_name="rev01")
    ctx.login(username=devserver.username, password=devserver.password)
    token = ctx.token_manager.cached()  # type: ignore[union-attr]
    token_file = ctx.token_file_path()
    assert token is not None and token.refresh_token and token_file is not None and token_file.exists()
    wire.clear()

    ctx.logout()

    revoked = [
        (form["token_type_hint"], form["token"]) for _, url, form in wire if url.endswith("/revocation")
    ]
    assert revoked == [("refresh_token", token.refresh_token), ("access_token", token.access_token)]
    assert not token_file.exists()
    client: Any = ctx.auth_client()
    assert client.introspect(token.refresh_token, "refresh_token") == {"active": False}


def test_logout_deletes_local_tokens_when_the_server_refuses(peer: PeerFactory, hermetic_env: Path) -> None:
    server = peer(lambda seen: json_answer(400, {"error": "unsupported_token_type"}))
    config = device_at(server.url, revocation_endpoint=f"{server.url}/revoke")
    ctx = planet_profiles.from_config(
        config, profile_name="rev01b", initial_token_data=live_token(refresh_token="rt-x")
    )
    token_file = ctx.token_file_path()
    assert token_file is not None and token_file.exists()

    with pytest.raises(OAuthError) as caught:
        ctx.logout()

    assert caught.value.error == "unsupported_token_type"
    assert server.seen[0].form()["token_type_hint"] == "refresh_token"
    assert not token_file.exists() and ctx.token_manager.cached() is None  # type: ignore[union-attr]
    assert not ctx.request_authenticator_is_ready()


# ---------------------------------------------------------------- INT-01: introspection


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"active": False, "sub": "alice", "scope": "admin", "exp": 9999999999}, {"active": False}),
        ({"active": "true", "sub": "alice", "scope": "admin"}, {"active": False}),
        ({"sub": "alice", "scope": "admin"}, {"active": False}),
        (
            {"active": True, "sub": "alice", "scope": "read"},
            {"active": True, "sub": "alice", "scope": "read"},
        ),
    ],
    ids=["inactive-with-claims", "active-as-a-string", "no-active", "active"],
)
def test_introspection_believes_only_active_true(
    peer: PeerFactory, answer: dict[str, Any], expected: dict[str, Any]
) -> None:
    server = peer(lambda seen: json_answer(200, answer))
    config = {
        **device_at(server.url, introspection_endpoint=f"{server.url}/introspect"),
        "client_type": "oidc_device_code_secret",
        "client_secret": CLIENT_SECRET,
    }
    ctx = planet_profiles.from_config(
        config, profile_name="int01", initial_token_data=live_token(), save_token_file=False
    )

    assert ctx.introspect() == expected

    [seen] = server.seen
    assert seen.form() == {"token": ACCESS_TOKEN, "token_type_hint": "access_token"}
    assert ACCESS_TOKEN not in seen.path and seen.headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    "answer",
    [json_answer(401, {"error": "invalid_client"}), (200, {}, b"not json"), json_answer(200, ["active"])],
    ids=["refused", "not-json", "not-an-object"],
)
def test_introspection_failures_are_typed(peer: PeerFactory, answer: Answer) -> None:
    server = peer(lambda seen: answer)
    config = device_at(server.url, introspection_endpoint=f"{server.url}/introspect")
    ctx = planet_profiles.from_config(
        config, profile_name="int01b", initial_token_data=live_token(), save_token_file=False
    )

    with pytest.raises(OAuthError) as caught:
        ctx.introspect()
    assert ACCESS_TOKEN not in str(caught.value)


# ---------------------------------------------------------------- DISC-01: discovery


def discovery_server(peer: PeerFactory, **document: Any) -> Peer:
    """An authorization server whose metadata names itself (unless `document` says otherwise)."""
    holder: dict[str, str] = {}

    def respond(seen: Seen) -> Answer:
        base = holder["url"]
        if seen.path == "/.well-known/openid-configuration":
            meta = {"issuer": base, "token_endpoint": f"{base}/token", "jwks_uri": f"{base}/jwks", **document}
            return json_answer(200, {k: v for k, v in meta.items() if v is not None})
        if seen.path == "/token":
            return json_answer(200, {"access_token": "at", "expires_in": 300, "token_type": "Bearer"})
        return json_answer(404, {"error": "not_found"})

    server = peer(respond)
    holder["url"] = server.url
    return server


def discovery_gets(server: Peer) -> int:
    return sum(s.path == "/.well-known/openid-configuration" for s in server.seen)


def test_discovery_is_fetched_once_and_cached(peer: PeerFactory) -> None:
    server = discovery_server(peer)
    config = {k: v for k, v in cc_at(server.url).items() if k != "token_endpoint"}
    ctx = planet_profiles.from_config(config, profile_name="disc", save_token_file=False)

    assert ctx.discovery()["issuer"] == server.url
    ctx.discovery()
    assert ctx.request_authenticator().header_value() == "Bearer at"
    again = planet_profiles.from_config(config, profile_name="disc2", save_token_file=False)
    assert again.auth_client().endpoint("token_endpoint") == f"{server.url}/token"  # type: ignore[attr-defined]

    assert discovery_gets(server) == 1
    assert [s.path for s in server.seen if s.method == "POST"] == ["/token"]


@pytest.mark.parametrize("configured", ["auth_server", "issuer"])
def test_an_issuer_mismatch_is_typed_and_no_secret_is_sent(peer: PeerFactory, configured: str) -> None:
    if configured == "auth_server":
        server = discovery_server(peer, issuer="https://login.example.com")
        config = {k: v for k, v in cc_at(server.url).items() if k != "token_endpoint"}
    else:
        server = discovery_server(peer)
        config = {k: v for k, v in cc_at(server.url).items() if k != "token_endpoint"}
        config["issuer"] = "https://login.example.com"
    ctx = planet_profiles.from_config(config, profile_name="mismatch", save_token_file=False)

    with pytest.raises(DiscoveryError) as caught:
        ctx.request_authenticator().header_value()

    assert caught.value.key == configured and "login.example.com" in str(caught.value)
    assert CLIENT_SECRET not in str(caught.value)
    assert [s.method for s in server.seen] == ["GET"]  # no token request: the secret was never sent


@pytest.mark.parametrize(
    ("document", "status", "key"),
    [
        (None, 404, "auth_server"),
        (["a", "list"], 200, "auth_server"),
        ({"token_endpoint": None}, 200, "token_endpoint"),
    ],
    ids=["not-found", "not-an-object", "no-token-endpoint"],
)
def test_discovery_failures_are_typed(peer: PeerFactory, document: Any, status: int, key: str) -> None:
    holder: dict[str, str] = {}

    def respond(seen: Seen) -> Answer:
        if isinstance(document, dict):
            return json_answer(status, {"issuer": holder["url"], **{k: v for k, v in document.items() if v}})
        return json_answer(status, document)

    server = peer(respond)
    holder["url"] = server.url
    config = {k: v for k, v in cc_at(server.url).items() if k != "token_endpoint"}
    ctx = planet_profiles.from_config(config, profile_name="broken", save_token_file=False)

    with pytest.raises(DiscoveryError) as caught:
        ctx.request_authenticator().header_value()
    assert caught.value.key == key and caught.value.file == "<in-memory profile broken>"
    assert all(s.method == "GET" for s in server.seen)


# ---------------------------------------------------------------- DISC-02: issuer pinning

PINNED = {
    "client_type": "oidc_client_credentials_secret",
    "auth_server": "https://login.example.com",
    "allowed_issuer_hosts": ["login.example.com"],
    "client_id": "svc",
    "client_secret": CLIENT_SECRET,
    "scopes": ["api.read"],
}


@pytest.mark.integration
@pytest.mark.parametrize("edit", ["auth_server", "token_endpoint", "issuer"])
def test_a_reviewed_in_change_to_an_unlisted_host_is_refused_before_any_request(
    edit: str,
    tmp_path: Path,
    age_key: AgeKey,
    monkeypatch: pytest.MonkeyPatch,
    trap: socket.socket,
) -> None:
    """A PR changes one server URL of a pinned, encrypted team profile to a host the pin does not list.
    CI (no keys) reports it, and a host that loads the merged profile refuses it before any request."""
    evil = f"http://127.0.0.1:{trap.getsockname()[1]}"
    changed = {**PINNED, edit: evil + ("/token" if edit == "token_endpoint" else "")}
    checkout = tmp_path / "team-repo" / "profiles"
    profile = make_encrypted_profile(checkout / "svc", changed, [age_key.recipient])
    monkeypatch.setenv("PL_AUTH_PROFILE_PATH", str(checkout))

    problems = planet_profiles.validate_file(profile)  # what the pre-commit hook / CI sees, without keys
    assert [p.pointer for p in problems] == [f"/{edit}"]
    assert "not in `allowed_issuer_hosts`" in problems[0].message

    monkeypatch.setenv("SOPS_AGE_KEY_FILE", age_key.identity_file)
    with pytest.raises(ConfigError) as caught:
        planet_profiles.open_profile("svc")
    assert (caught.value.file, caught.value.key) == (str(profile), edit)
    assert "allowed_issuer_hosts" in str(caught.value) and CLIENT_SECRET not in str(caught.value)
    with pytest.raises(ConfigError):
        planet_profiles.from_config(changed, profile_name="svc-in-memory", save_token_file=False)
    assert_never_connected(trap)


@pytest.mark.integration
def test_a_pinned_profile_works_on_its_own_host_only(devserver: DevServer) -> None:
    profile = devserver.profile(
        "oidc_client_credentials_secret", "cc-secret", allowed_issuer_hosts=["127.0.0.1"]
    )
    ctx = planet_profiles.from_config(profile, profile_name="pinned", save_token_file=False)
    assert requests.get(devserver.hello_url, auth=ctx.request_authenticator(), timeout=10).status_code == 200

    same_server_other_name = {**profile, "auth_server": devserver.issuer.replace("127.0.0.1", "localhost")}
    with pytest.raises(ConfigError) as caught:
        planet_profiles.parse_config(same_server_other_name)
    assert caught.value.key == "auth_server"
