"""On the wire like planet-auth 2.3.2 wherever a profile says nothing else (issue 10).

For every client type that talks to a server, the same profile runs through planet-auth (its own venv, from
PyPI) and through planet-profiles (`bench/workers/wire.py`: login, an API call, a renewal, revocation)
against the real dev server, behind recording relays (`tests/fault_proxy.py`, `record=True`) in front of the
auth server (authorize, token, device authorization, revocation) and the API. Per request, in order, the test
compares: the client authentication method, where `client_id` went, the public grant parameters (`scope`,
`audience`, `resource`, `prompt`, …), every parameter name, the `Authorization` scheme at the API, and the
answer's status. Every difference must be one that `docs/differences.md` lists (`wire:` patterns), and every
`wire:` entry there must still be observed.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.fault_proxy import Exchange, FaultProxy
from tests.fixtures_devserver import DevServer, DevServerFactory
from tests.fixtures_redis import free_port  # (a free loopback port)
from tests.parity import REPO, Workspace, check_against_docs, parity_workspace

pytestmark = [pytest.mark.integration, pytest.mark.wheel]

# case -> (client_type, client_id, worker flow, extra profile keys)
CASES: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "oidc_auth_code": ("oidc_auth_code", "native-public", "browser", {}),
    "oidc_auth_code_secret": ("oidc_auth_code_secret", "auth-code-secret", "browser", {}),
    "oidc_auth_code_pubkey": ("oidc_auth_code_pubkey", "auth-code-pubkey", "browser", {}),
    "oidc_device_code": ("oidc_device_code", "device-public", "device", {}),
    "oidc_device_code_secret": ("oidc_device_code_secret", "device-secret", "device", {}),
    "oidc_device_code_pubkey": ("oidc_device_code_pubkey", "device-pubkey", "device", {}),
    "oidc_resource_owner": ("oidc_resource_owner", "ro-public", "password", {}),
    "oidc_resource_owner_secret": ("oidc_resource_owner_secret", "ro-secret", "password", {}),
    "oidc_resource_owner_pubkey": ("oidc_resource_owner_pubkey", "ro-pubkey", "password", {}),
    "oidc_client_credentials_secret": ("oidc_client_credentials_secret", "cc-secret-post", "grant", {}),
    "oidc_client_credentials_secret+audiences": (
        "oidc_client_credentials_secret",
        "cc-secret-post",
        "grant",
        {"audiences": ["AUDIENCE"]},
    ),
    "oidc_client_credentials_secret@basic-only": ("oidc_client_credentials_secret", "cc-secret", "grant", {}),
    "oidc_client_credentials_pubkey": ("oidc_client_credentials_pubkey", "cc-pubkey", "grant", {}),
    "static_apikey": ("static_apikey", "", "none", {}),
    "none": ("none", "", "none", {}),
}

# Requests that say what a client sends; the rest (discovery, JWKS, the user's login pages) are the
# server's or the browser's business.
ACCESS_TTL = 5
RENEW_AFTER = 4.2
OAUTH_PATHS = ("/auth", "/token", "/device/auth", "/token/revocation", "/token/introspection")


class Wire:
    """The dev server and the bench workspace both libraries run in; each run gets its own recording relays
    in front of the auth server and the API, so runs can go in parallel (most of a run is waiting)."""

    def __init__(self, ws: Workspace, server: DevServer) -> None:
        self.ws, self.server = ws, server
        self._lock = threading.Lock()
        self._runs = 0

    def profile(self, case: str, auth_url: str, port: int) -> dict[str, Any]:
        client_type, client_id, _, extra = CASES[case]
        if client_type == "static_apikey":
            # planet-auth re-reads a static key's profile file as its credential, which then needs the prefix.
            return {
                "client_type": client_type,
                "api_key": self.server.api_key,
                "bearer_token_prefix": "api-key",
            }
        if client_type == "none":
            return {"client_type": "none"}
        config = self.server.profile(  # as planet-auth's profiles are: no client_auth_method
            client_type,
            client_id,
            key_file="rsa" if client_type.endswith("_pubkey") else None,
            client_auth_method=None,
        )
        config.update(auth_server=auth_url, issuer=self.server.issuer)
        if client_type.startswith("oidc_auth_code"):
            config["local_redirect_uri"] = f"http://127.0.0.1:{port}/callback"
        for key, value in extra.items():
            config[key] = [self.server.audience] if value == ["AUDIENCE"] else value
        return config

    def run(self, case: str, lib: str) -> tuple[list[Any], list[Exchange]]:
        """One run of the worker for `case` under `lib`: its steps and the requests it made."""
        with self._lock:
            self._runs += 1
            name = f"wire-{self._runs}"
        with (
            FaultProxy(self.server.issuer, record=True, rehost=True) as auth,
            FaultProxy(self.server.api_url, record=True) as api,
        ):
            self.ws.write_json(
                self.ws.profile_dir(name) / "auth_client.json", self.profile(case, auth.url, free_port())
            )
            spec = {
                "profile": name,
                "flow": CASES[case][2],
                "renew_after": RENEW_AFTER if CASES[case][2] != "none" else 0,
                "api": api.url + "/api/hello",
                "username": self.server.username,
                "password": self.server.password,
                "devserver_dir": str(REPO / "devserver"),
            }
            driver = REPO / "tests" / "browser_driver.py"
            env = self.ws.env(self.ws.libs[lib], BROWSER=f"{sys.executable} {driver} %s &")
            result = self.ws.worker(self.ws.libs[lib], "wire.py", spec, env=env, timeout=120)
            time.sleep(0.05)  # a background browser's last request may still be on its way
            exchanges = [e for e in auth.exchanges if e.path in OAUTH_PATHS] + list(api.exchanges)
        return result["steps"], exchanges


@pytest.fixture(scope="module")
def wire(devserver_factory: DevServerFactory) -> Iterator[Wire]:
    # Access tokens live ACCESS_TTL s; after RENEW_AFTER s both libraries renew them (planet-auth once the
    # whole second is past 75 % of the lifetime, ours at least 1 s before expiry). planet-auth sleeps
    # `interval` before its first device poll.
    server = devserver_factory(access_ttl=ACCESS_TTL, device_interval=1)
    for ws in parity_workspace():
        yield Wire(ws, server)


def label(exchange: Exchange) -> str:
    grant = exchange.params.get("grant_type", "")
    grant = grant.rsplit(":", 1)[-1]  # urn:ietf:params:oauth:grant-type:device_code -> device_code
    return f"{exchange.method} {exchange.path}" + (f" {grant}" if grant else "")


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={v}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, tuple):
        return ",".join(value) or "-"
    return str(value)


def differences(case: str, pa: list[Exchange], mine: list[Exchange]) -> list[str]:
    """`wire:<case> <request> <field>: <planet-auth> -> <ours>` for everything that differs."""
    found = []
    labels = list(dict.fromkeys(label(e) for e in pa + mine))
    for name in labels:
        a = [e for e in pa if label(e) == name]
        b = [e for e in mine if label(e) == name]
        if len(a) != len(b):
            found.append(f"wire:{case} {name} count: {len(a)} -> {len(b)}")
        for x, y in zip(a, b, strict=False):
            for field in ("status", "client_auth", "client_id_in", "params", "scheme"):
                theirs, mine_ = _show(getattr(x, field)), _show(getattr(y, field))
                if theirs != mine_:
                    found.append(f"wire:{case} {name} {field}: {theirs} -> {mine_}")
            more, fewer = sorted(set(y.names) - set(x.names)), sorted(set(x.names) - set(y.names))
            if more or fewer:
                found.append(
                    f"wire:{case} {name} names: "
                    + " ".join([f"+{n}" for n in more] + [f"-{n}" for n in fewer])
                )
    return found


def outcome(result: Any) -> str:
    """A step's outcome: `ok`, an HTTP status, or `error` (the two libraries' exception classes differ)."""
    return str(result) if result == "ok" or isinstance(result, int) else "error"


def test_requests_on_the_wire_match_planet_auth_or_are_documented(wire: Wire) -> None:
    observed: list[str] = []
    report = []
    runs = [(case, lib) for case in CASES for lib in ("pa", "ours")]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = dict(zip(runs, pool.map(lambda run: wire.run(*run), runs), strict=True))
    for case in CASES:
        (pa_steps, pa), (our_steps, mine) = results[case, "pa"], results[case, "ours"]
        report.append(f"{case}: planet-auth {pa_steps} / ours {our_steps}")
        # Ours works end to end (revocation aside: the dev server cannot revoke its JWT access tokens).
        assert [outcome(o) for _, o in our_steps][:3] in (["ok", "200", "200"], ["ok", "401", "401"]), case
        assert mine, f"{case}: no request reached the relays"
        observed += differences(case, pa, mine)
        observed += [
            f"wire:{case} step {step}: {outcome(a)} -> {outcome(b)}"
            for (step, a), (_, b) in zip(pa_steps, our_steps, strict=True)
            if outcome(a) != outcome(b)
        ]
    print("\n".join(report))
    check_against_docs("wire", observed)
