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

import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fault_proxy import Exchange, FaultProxy
from tests.fixtures_devserver import DevServer, DevServerFactory
from tests.parity import REPO, Workspace, check_against_docs, parity_workspace

pytestmark = pytest.mark.integration

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
OAUTH_PATHS = ("/auth", "/token", "/device/auth", "/token/revocation", "/token/introspection")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Wire:
    """The dev server behind two recording relays, and the bench workspace both libraries run in."""

    def __init__(self, ws: Workspace, server: DevServer, auth: FaultProxy, api: FaultProxy) -> None:
        self.ws, self.server, self.auth, self.api = ws, server, auth, api
        self.runs = 0

    def profile(self, case: str, port: int) -> dict[str, Any]:
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
        config = self.server.profile(
            client_type, client_id, key_file="rsa" if client_type.endswith("_pubkey") else None
        )
        config.update(auth_server=self.auth.url, issuer=self.server.issuer)
        if client_type.startswith("oidc_auth_code"):
            config["local_redirect_uri"] = f"http://127.0.0.1:{port}/callback"
        for key, value in extra.items():
            config[key] = [self.server.audience] if value == ["AUDIENCE"] else value
        return config

    def run(self, case: str, lib: str) -> tuple[list[Any], list[Exchange]]:
        """One run of the worker for `case` under `lib`: its steps and the requests it made."""
        self.runs += 1
        name = f"wire-{self.runs}"
        port = free_port()
        self.ws.write_json(self.ws.profile_dir(name) / "auth_client.json", self.profile(case, port))
        self.auth.reset_counts()
        self.api.reset_counts()
        spec = {
            "profile": name,
            "flow": CASES[case][2],
            "api": self.api.url + "/api/hello",
            "username": self.server.username,
            "password": self.server.password,
            "devserver_dir": str(REPO / "devserver"),
        }
        driver = REPO / "tests" / "browser_driver.py"
        env = self.ws.env(self.ws.libs[lib], BROWSER=f"{sys.executable} {driver} %s &")
        result = self.ws.worker(self.ws.libs[lib], "wire.py", spec, env=env, timeout=120)
        time.sleep(0.05)  # a background browser's last request may still be on its way
        exchanges = [e for e in self.auth.exchanges if e.path in OAUTH_PATHS] + list(self.api.exchanges)
        return result["steps"], exchanges


@pytest.fixture(scope="module")
def wire(devserver_factory: DevServerFactory) -> Iterator[Wire]:
    server = devserver_factory(device_interval=1)  # planet-auth sleeps `interval` before its first poll
    with (
        FaultProxy(server.issuer, record=True, rehost=True) as auth,
        FaultProxy(server.api_url, record=True) as api,
    ):
        for ws in parity_workspace():
            yield Wire(ws, server, auth, api)


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
                if getattr(x, field) != getattr(y, field):
                    found.append(
                        f"wire:{case} {name} {field}: {_show(getattr(x, field))} -> {_show(getattr(y, field))}"
                    )
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
    for case in CASES:
        pa_steps, pa = wire.run(case, "pa")
        our_steps, mine = wire.run(case, "ours")
        report.append(f"{case}: planet-auth {pa_steps} / ours {our_steps}")
        # Ours must work end to end whatever planet-auth does (planet-auth's failures are differences).
        print(case, pa_steps, our_steps, *pa, "--", *mine, sep="\n  ")
        assert mine, f"{case}: no request reached the relays"
        observed += differences(case, pa, mine)
        observed += [
            f"wire:{case} step {step}: {outcome(a)} -> {outcome(b)}"
            for (step, a), (_, b) in zip(pa_steps, our_steps, strict=True)
            if outcome(a) != outcome(b)
        ]
    print("\n".join(report + observed))
    check_against_docs("wire", observed)
