"""Worker (tests/test_wire_parity.py): one profile's whole life through the seed API, under either library.

    python wire.py '{"profile": NAME, "flow": "grant"|"browser"|"device"|"password"|"none", "api": URL,
                     "renew_after": SECONDS, "username": ..., "password": ..., "devserver_dir": DIR}'

Runs, in order: the login of the profile's flow (`grant`: none, the first API call obtains the token just in
time; `browser`: `login(allow_open_browser=True)` with `BROWSER` set by the caller; `device`:
`device_login_initiate`, the user's approval on the dev server's pages, `device_login_complete`;
`password`: `login(username=..., password=...)`), one API call, a wait of `renew_after` seconds (the token is
then due for renewal in both libraries), a second API call (a refresh, or a new grant), then revocation (ours:
`ctx.logout()`; planet-auth has no logout: its auth client's `revoke_refresh_token` / `revoke_access_token`).
Every step runs even if an earlier one failed (the requests on the wire are what is compared). Prints one
JSON line: `steps` (`[name, outcome]`, outcome `ok`, an HTTP status or an exception class name).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def main() -> None:
    spec = json.loads(sys.argv[1])
    sys.path.insert(0, spec["devserver_dir"])  # headless.py: the user's browser for the device flow
    import requests

    import planet_auth_utils

    factory = planet_auth_utils.PlanetAuthFactory
    steps: list[list[Any]] = []

    def step(name: str, action: Any) -> Any:
        try:
            result = action()
        except Exception as exc:  # noqa: BLE001 - recorded, not raised: the next steps still run
            steps.append([name, type(exc).__name__])
            return None
        steps.append([name, result if isinstance(result, (int, str)) else "ok"])
        return result

    def api_call(ctx: Any) -> int:
        with requests.Session() as session:
            session.trust_env = False
            return session.get(spec["api"], auth=ctx.request_authenticator(), timeout=15).status_code

    def login(ctx: Any) -> Any:
        flow = spec["flow"]
        if flow == "browser":
            return ctx.login(allow_open_browser=True, allow_tty_prompt=False)
        if flow == "password":
            return ctx.login(username=spec["username"], password=spec["password"])
        if flow == "device":
            from headless import approve_device

            info = ctx.device_login_initiate()
            approve_device(info["verification_uri_complete"])
            return ctx.device_login_complete(info)
        return None

    ctx = factory.initialize_auth_client_context(auth_profile_opt=spec["profile"])
    step("login", lambda: login(ctx))
    step("api", lambda: api_call(ctx))

    time.sleep(spec["renew_after"])  # the token is now due for renewal in both libraries
    step("renewed api", lambda: api_call(ctx))

    token_file = Path.home() / ".planet" / spec["profile"].lower() / "token.json"

    def revoke() -> Any:
        if hasattr(ctx, "logout"):
            return ctx.logout()
        data = json.loads(token_file.read_text()) if token_file.exists() else {}
        client = ctx.auth_client()
        if data.get("refresh_token"):
            client.revoke_refresh_token(data["refresh_token"])
        if data.get("access_token"):
            client.revoke_access_token(data["access_token"])
        return None

    if spec["flow"] != "none":
        step("revoke", revoke)
    print(json.dumps({"steps": steps}))


if __name__ == "__main__":
    main()
