"""Fault injection between the client and the real OIDC server (SECURITY NET-01, TOK-03; issue 5).

`tests/fault_proxy.py` relays to the dev server and breaks chosen requests. Profiles reach the server only
through it: `auth_server` and `token_endpoint` name the proxy, `issuer` names the real server. The proxy
rewrites no discovery document, so the issuer check stays meaningful: discovery fetched through the relay
must still name the configured (real) issuer, and a profile that trusted the proxy's URL as its issuer is
refused (`test_issuer_check_stays_live_through_the_relay`). Because discovery's `token_endpoint` is the real
server's, the profile overrides it to keep token requests on the proxy.

Retries are observed, not waited for: a `RetryPolicy` with a recording `sleep` is installed as the default
(see `use_policy`); attempts are counted at the proxy.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import planet_profiles
from planet_profiles import _http, _oauth
from planet_profiles._authenticator import RequestAuthenticator
from planet_profiles._errors import DiscoveryError, OAuthError, TransportError
from planet_profiles._http import RetryPolicy
from planet_profiles._token_manager import TokenManager, refresh_at, still_valid
from planet_profiles._tokens import MemoryTokenStore, Token
from tests.fault_proxy import Fault, FaultProxy
from tests.fixtures_devserver import DevServer

pytestmark = pytest.mark.integration

TOKEN = "/token"  # noqa: S105 - a path
DISCOVERY = "/.well-known/openid-configuration"
CLI = Path(sys.executable).with_name("planet-profiles")


class RecordingSleep:
    """`RetryPolicy.sleep` that records each wait instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def use_policy(monkeypatch: pytest.MonkeyPatch, policy: RetryPolicy) -> None:
    """Make `policy` the retry policy of every HTTP call of the library, for one test (`_http.request`
    resolves `DEFAULT_POLICY` at call time)."""
    monkeypatch.setattr(_http, "DEFAULT_POLICY", policy)


@pytest.fixture
def sleep(monkeypatch: pytest.MonkeyPatch) -> RecordingSleep:
    """Installs the test default policy (3 attempts, recorded back-off, 2 s timeouts); returns the sleep."""
    recorder = RecordingSleep()
    use_policy(
        monkeypatch, RetryPolicy(attempts=3, backoff=0.2, max_wait=10.0, timeout=(2.0, 2.0), sleep=recorder)
    )
    return recorder


@pytest.fixture
def proxy(devserver: DevServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultProxy]:
    """A fresh relay to the shared dev server; the discovery cache starts empty (ports get reused)."""
    monkeypatch.setattr(_oauth, "_cache", {})
    with FaultProxy(devserver.issuer) as relay:
        yield relay


def via(proxy: FaultProxy, server: DevServer) -> dict[str, str]:
    """Profile keys that route the auth server through the relay, keeping the real issuer."""
    return {"auth_server": proxy.url, "issuer": server.issuer, "token_endpoint": proxy.url + TOKEN}


def cc_context(server: DevServer, proxy: FaultProxy, **extra: Any) -> planet_profiles.AuthContext:
    config = server.profile("oidc_client_credentials_secret", "cc-secret", **via(proxy, server), **extra)
    return planet_profiles.from_config(config, profile_name="faulty", save_token_file=False)


def manager_of(ctx: planet_profiles.AuthContext) -> TokenManager:
    manager = ctx.token_manager
    assert manager is not None
    return manager


def api_status(server: DevServer, auth: Any) -> int:
    return requests.get(server.hello_url, auth=auth, timeout=10).status_code


# -- the relay itself -------------------------------------------------------------------------------------


def test_relay_passes_everything_through_unchanged(
    devserver: DevServer, proxy: FaultProxy, sleep: RecordingSleep
) -> None:
    direct = requests.get(devserver.discovery_url, timeout=10)
    relayed = requests.get(proxy.url + DISCOVERY, timeout=10)
    assert (relayed.status_code, relayed.content) == (direct.status_code, direct.content)
    assert relayed.headers["Content-Type"] == direct.headers["Content-Type"]
    ctx = cc_context(devserver, proxy)
    assert api_status(devserver, ctx.request_authenticator()) == 200
    assert proxy.counts() == {DISCOVERY: 1, TOKEN: 1}
    assert [action for _, _, action in proxy.log] == ["pass", "pass"]
    assert sleep.waits == []


def test_issuer_check_stays_live_through_the_relay(devserver: DevServer, proxy: FaultProxy) -> None:
    ctx = cc_context(devserver, proxy)
    meta = ctx.discovery()  # fetched through the relay, unmodified: it names the real issuer
    assert meta["issuer"] == devserver.issuer and meta["token_endpoint"] == devserver.token_endpoint
    trusting = planet_profiles.from_config(
        devserver.profile("oidc_client_credentials_secret", "cc-secret", auth_server=proxy.url),
        profile_name="trusting",
        save_token_file=False,
    )
    with pytest.raises(DiscoveryError) as info:
        trusting.discovery()  # a server whose metadata names another issuer is refused (DISC-01)
    assert devserver.issuer in str(info.value) and info.value.key == "auth_server"


# -- bounded retries with back-off (NET-01) ---------------------------------------------------------------

TRANSIENT = {
    "500": (Fault.status(500), None),
    "503-retry-after": (Fault.status(503, retry_after=7), 7.0),
    "429-retry-after": (Fault.status(429, retry_after=3), 3.0),
    "503-retry-after-capped": (Fault.status(503, retry_after=3600), 10.0),  # capped at max_wait
    "503-retry-after-http-date": (Fault.status(503, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"), None),
}


@pytest.mark.parametrize("name", list(TRANSIENT))
def test_transient_answers_are_retried_with_backoff(
    devserver: DevServer, proxy: FaultProxy, sleep: RecordingSleep, name: str
) -> None:
    fault, retry_after = TRANSIENT[name]
    proxy.inject(TOKEN, fault, times=2)  # fails twice, then the real server answers
    token = manager_of(cc_context(devserver, proxy)).token()
    assert proxy.count(TOKEN) == 3  # = RetryPolicy.attempts
    assert len(sleep.waits) == 2
    if retry_after is not None:
        assert sleep.waits == [retry_after, retry_after]  # Retry-After honoured (capped at max_wait)
    else:  # exponential back-off with jitter: backoff * 2**(n-1) * [0.5, 1]
        assert 0.1 <= sleep.waits[0] <= 0.2 and 0.2 <= sleep.waits[1] <= 0.4
    bearer = {"Authorization": f"Bearer {token.access_token}"}
    assert requests.get(devserver.hello_url, headers=bearer, timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (
            Fault.status(
                503,
                retry_after=1,
                body={"error": "temporarily_unavailable", "error_description": "maintenance"},
            ),
            "temporarily_unavailable",
        ),
        (Fault.status(500), None),
        (Fault.status(429, retry_after=1), None),
    ],
    ids=["503-with-rfc-error", "500-empty", "429"],
)
def test_failing_for_ever_ends_in_a_typed_error(
    devserver: DevServer, proxy: FaultProxy, sleep: RecordingSleep, fault: Fault, error: str | None
) -> None:
    proxy.inject(TOKEN, fault, times=None)
    with pytest.raises(OAuthError) as info:
        manager_of(cc_context(devserver, proxy)).token()
    assert info.value.status_code == fault.status_code
    assert info.value.error == error  # the server's RFC 6749 §5.2 code, untouched, when it sent one
    assert proxy.count(TOKEN) == 3 and len(sleep.waits) == 2  # bounded: attempts, not more


def test_client_errors_pass_through_untouched_and_are_not_retried(
    devserver: DevServer, proxy: FaultProxy, sleep: RecordingSleep
) -> None:
    ctx = cc_context(devserver, proxy, client_secret="wrong-secret-value", client_auth_method=None)
    with pytest.raises(OAuthError) as info:
        manager_of(ctx).token()
    assert info.value.error == "invalid_client" and info.value.status_code in (400, 401)
    # The profile names no client_auth_method: the other method discovery lists is tried once (a
    # negotiation, not a retry: no back-off), then the refusal surfaces.
    assert proxy.count(TOKEN) == 2 and sleep.waits == []
    assert "wrong-secret-value" not in str(info.value) + repr(info.value)


def test_discovery_is_retried_and_its_faults_are_typed(
    devserver: DevServer, proxy: FaultProxy, sleep: RecordingSleep
) -> None:
    proxy.inject(DISCOVERY, Fault.status(502), times=1)
    assert cc_context(devserver, proxy).discovery()["issuer"] == devserver.issuer
    assert proxy.count(DISCOVERY) == 2
    _oauth._cache.clear()
    proxy.inject(DISCOVERY, Fault.invalid_json(), times=1)
    with pytest.raises(DiscoveryError, match="not return a JSON object"):
        cc_context(devserver, proxy).discovery()
    assert proxy.count(DISCOVERY) == 3  # a broken body is not retried


# -- transport failures -----------------------------------------------------------------------------------


def test_a_hang_past_the_timeout_is_a_transport_error_in_bounded_time(
    devserver: DevServer, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = RecordingSleep()
    use_policy(monkeypatch, RetryPolicy(attempts=3, backoff=0.01, timeout=(1.0, 0.3), sleep=recorder))
    proxy.inject(TOKEN, Fault.hang(), times=None)
    started = time.monotonic()
    with pytest.raises(TransportError, match="timed out after 3 attempts"):
        manager_of(cc_context(devserver, proxy)).token()
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < 3.0  # three read timeouts of 0.3 s, not the proxy's 300 s hang
    assert proxy.count(TOKEN) == 3 and len(recorder.waits) == 2


@pytest.mark.parametrize("fault", [Fault.close(), Fault.reset()], ids=["closed", "reset"])
def test_a_broken_connection_is_retried_then_a_transport_error(
    devserver: DevServer, proxy: FaultProxy, sleep: RecordingSleep, fault: Fault
) -> None:
    proxy.inject(TOKEN, fault, times=1)
    assert manager_of(cc_context(devserver, proxy)).token().access_token  # one failure: retried, works
    assert proxy.count(TOKEN) == 2
    proxy.inject(TOKEN, fault, times=None)
    with pytest.raises(TransportError, match="connection failed after 3 attempts") as info:
        manager_of(cc_context(devserver, proxy)).token()
    assert proxy.count(TOKEN) == 5
    assert info.value.hint and "reachable" in info.value.hint


def test_a_reset_really_is_a_reset(proxy: FaultProxy) -> None:
    """Guard for the double itself: `reset()` reaches the client as ECONNRESET, `close()` as a clean EOF."""
    import http.client

    for fault, expected in (
        (Fault.reset(), ConnectionResetError),
        (Fault.close(), http.client.RemoteDisconnected),
    ):
        proxy.inject("/x", fault)
        conn = http.client.HTTPConnection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]), timeout=5)
        conn.request("GET", "/x")
        with pytest.raises(expected):
            conn.getresponse()
        conn.close()


# -- broken token responses -------------------------------------------------------------------------------


def test_invalid_json_is_a_typed_error_and_not_retried(
    devserver: DevServer, proxy: FaultProxy, sleep: RecordingSleep
) -> None:
    proxy.inject(TOKEN, Fault.invalid_json(), times=1)
    manager = manager_of(cc_context(devserver, proxy))
    with pytest.raises(OAuthError, match="no `access_token` in a JSON object") as info:
        manager.token()
    assert type(info.value) is OAuthError and info.value.status_code == 200
    assert proxy.count(TOKEN) == 1 and sleep.waits == []
    assert manager.token().access_token  # the next call passes through and works


def test_a_token_without_expires_in_is_used_and_kept(
    devserver: DevServer, proxy: FaultProxy, sleep: RecordingSleep
) -> None:
    proxy.inject(TOKEN, Fault.without("expires_in"), times=1)
    ctx = cc_context(devserver, proxy)
    auth = ctx.request_authenticator()
    assert [api_status(devserver, auth) for _ in range(5)] == [200] * 5
    token = manager_of(ctx).cached()
    assert token is not None and "expires_in" not in token.data
    assert token.expires_at is None and refresh_at(token) == float("inf")  # no expiry known: never renewed
    assert proxy.count(TOKEN) == 1


# -- early renewal while the token is still valid (TOK-03) ------------------------------------------------


class FrozenClock:
    """A clock that stands still until moved, so back-off windows are exact."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _logged_in(server: DevServer, proxy: FaultProxy) -> tuple[planet_profiles.AuthContext, Token]:
    config = server.profile(
        "oidc_resource_owner", "ro-public", scopes=["offline_access", "api.read"], **via(proxy, server)
    )
    ctx = planet_profiles.from_config(config, profile_name="early", save_token_file=False)
    token = ctx.login(username=server.username, password=server.password).token
    assert token is not None and token.refresh_token and token.expires_at and token.issued_at
    return ctx, token


def _in_advisory_window(token: Token) -> FrozenClock:
    assert token.issued_at is not None and token.expires_at is not None
    clock = FrozenClock(token.issued_at + 0.93 * (token.expires_at - token.issued_at))
    assert clock() >= refresh_at(token) and still_valid(token, clock())
    return clock


@pytest.mark.parametrize(
    "fault",
    [
        Fault.status(503, retry_after=1, body={"error": "temporarily_unavailable"}),
        Fault.reset(),
        Fault.hang(),
        Fault.status(429, retry_after=1),
    ],
    ids=["503", "reset", "hang", "429"],
)
def test_early_refresh_failure_keeps_serving_the_valid_token_without_a_retry_storm(
    devserver: DevServer, proxy: FaultProxy, monkeypatch: pytest.MonkeyPatch, fault: Fault
) -> None:
    recorder = RecordingSleep()
    use_policy(monkeypatch, RetryPolicy(attempts=3, backoff=0.01, timeout=(1.0, 0.3), sleep=recorder))
    ctx, token = _logged_in(devserver, proxy)
    clock = _in_advisory_window(token)
    manager = TokenManager(ctx.auth_client(), MemoryTokenStore(token), clock=clock)
    auth = RequestAuthenticator(manager=manager, clock=clock)
    proxy.reset_counts()
    proxy.inject(TOKEN, fault, times=None)

    assert api_status(devserver, auth) == 200  # the renewal failed; the still-valid token was sent
    assert proxy.count(TOKEN) == 3  # one renewal attempt = RetryPolicy.attempts requests, no more

    def burst(n: int) -> list[int]:
        return [api_status(devserver, auth) for _ in range(n)]

    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.extend(burst(5))) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 50
    assert proxy.count(TOKEN) == 3  # 50 requests inside the back-off: not a single new attempt

    proxy.clear()
    clock.now += 2.1  # past the first back-off step (2 s), still before the token's expiry
    assert api_status(devserver, auth) == 200
    assert proxy.count(TOKEN) == 4  # exactly one more attempt, and it succeeded
    renewed = manager.cached()
    assert renewed is not None and renewed.access_token != token.access_token
    assert renewed.refresh_token and renewed.refresh_token != token.refresh_token  # rotated, and kept


def test_a_failing_renewal_of_an_expired_token_raises(
    devserver: DevServer, proxy: FaultProxy, sleep: RecordingSleep
) -> None:
    ctx, token = _logged_in(devserver, proxy)
    assert token.expires_at is not None
    clock = FrozenClock(token.expires_at - 0.5)  # inside the 2 % safety margin: no longer "still valid"
    manager = TokenManager(ctx.auth_client(), MemoryTokenStore(token), clock=clock)
    proxy.inject(TOKEN, Fault.status(503, body={"error": "temporarily_unavailable"}), times=None)
    with pytest.raises(OAuthError) as info:
        manager.token()
    assert info.value.error == "temporarily_unavailable"


# -- the CLI ----------------------------------------------------------------------------------------------


def test_cli_prints_one_error_line_for_an_auth_server_that_is_down(
    devserver: DevServer, proxy: FaultProxy, hermetic_env: Path
) -> None:
    profile = hermetic_env / ".planet" / "down" / "auth_client.json"
    profile.parent.mkdir(parents=True, mode=0o700)
    profile.write_text(
        json.dumps(devserver.profile("oidc_client_credentials_secret", "cc-secret", **via(proxy, devserver)))
    )
    profile.chmod(0o600)
    proxy.inject("*", Fault.status(503), times=None)  # the whole auth server answers 503, for ever
    started = time.monotonic()
    result = subprocess.run([str(CLI), "token", "down"], capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert result.returncode == 1, result.stderr
    assert len(errors) == 1, result.stderr
    assert "503" in errors[0] and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert proxy.count(TOKEN) == 3  # the CLI's default policy: 3 attempts, then the error
    assert elapsed < 15
