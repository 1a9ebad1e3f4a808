"""Drives Planet's own SDK (`planet==3.7.0`) with planet-profiles credentials.

Run by `tests/test_planet_sdk.py` with the interpreter of the SDK venv (`.venv-sdk/`: planet==3.7.0 and the
built wheel, made by `make wheel-venvs`), never with the test venv, from a directory outside the checkout:

    .venv-sdk/bin/python tests/sdk_driver.py MODE URL [ARG]

The credentials are those `open_profile()` selects (`PL_AUTH_PROFILE`, `PL_AUTH_PROFILE_PATH`, …). Prints one
JSON object per line on stdout (the last one is the result); exit 1 with `{"error": TYPE, ...}` on failure.

MODE:
  session N        N concurrent `planet.Session.request("GET", URL)` with `planet_profiles.planet_sdk_auth()`
  plauth           one request with the SDK's own hook: `planet.Auth._from_plauth(open_profile())`
  no-header        the control: `_from_plauth` of a context whose authenticator is a bare `httpx.Auth`
                   (what the SDK got before `auth_flow` existed: no header)
  expiry SECONDS   a request, SECONDS of sleep (the token expires), a request, on one Session
  retry            one request, with the SDK's retry back-off cut to 0.05 s (the test injects a 502)
  device           `device_user_login_initiate()` (printed first), `..._complete()`, then a request
  authcode         `user_login(allow_open_browser=True)` (`BROWSER` drives it), then a request
  httpx            one request with `httpx.Client(auth=planet_sdk_auth())`: the adapter's sync flow

Every result says in which threads the token was fetched (`fetches_on_loop`: one flag per fetch, true when
the event loop's own thread did it), from the DEBUG records of `planet_profiles.session`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
import time
from typing import Any

import httpx
import planet

import planet_auth_utils
import planet_profiles

FETCH_MESSAGES = ("requesting a new token", "refreshing the token")


class _Fetches(logging.Handler):
    """The thread of every token fetch the token manager logs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.threads: list[int] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith(FETCH_MESSAGES):
            self.threads.append(record.thread or 0)


FETCHES = _Fetches()
session_log = logging.getLogger("planet_profiles.session")
session_log.setLevel(logging.DEBUG)
session_log.addHandler(FETCHES)


def emit(**result: Any) -> None:
    print(json.dumps(result), flush=True)


def answer(response: Any) -> dict[str, Any]:
    body = response.json()
    return {"status": response.status_code, "client_id": body.get("client_id")}


async def requests_on_session(auth: Any, url: str, count: int = 1, pause: float = 0.0) -> dict[str, Any]:
    loop_thread = threading.get_ident()
    async with planet.Session(auth=auth) as session:
        session.max_retry_backoff = 0.05
        first = await asyncio.gather(*(session.request("GET", url) for _ in range(count)))
        later = []
        if pause:
            await asyncio.sleep(pause)
            later = [await session.request("GET", url)]
        outcomes = {str(getattr(k, "__name__", k)): v for k, v in session.outcomes.items()}
    return {
        "answers": [answer(r) for r in (*first, *later)],
        "fetches_on_loop": [t == loop_thread for t in FETCHES.threads],
        "outcomes": outcomes,
    }


class _NoAuthFlow:
    """A context whose request authenticator has only `httpx.Auth.auth_flow` (sets no header)."""

    def request_authenticator(self) -> httpx.Auth:
        return httpx.Auth()


def run(mode: str, url: str, arg: str | None) -> dict[str, Any]:
    if mode == "session":
        return asyncio.run(requests_on_session(planet_profiles.planet_sdk_auth(), url, int(arg or 1)))
    if mode == "plauth":
        auth = planet.Auth._from_plauth(planet_profiles.open_profile())
        return asyncio.run(requests_on_session(auth, url))
    if mode == "no-header":
        return asyncio.run(requests_on_session(planet.Auth._from_plauth(_NoAuthFlow()), url))
    if mode == "expiry":
        return asyncio.run(requests_on_session(planet_profiles.planet_sdk_auth(), url, pause=float(arg or 0)))
    if mode == "retry":
        return asyncio.run(requests_on_session(planet_profiles.planet_sdk_auth(), url))
    if mode == "device":
        auth = planet_profiles.planet_sdk_auth()
        assert not auth.is_initialized()
        info = auth.device_user_login_initiate()
        emit(
            initiated={k: info.get(k) for k in ("verification_uri", "user_code", "verification_uri_complete")}
        )
        auth.device_user_login_complete(info)
        assert auth.is_initialized()
        return asyncio.run(requests_on_session(auth, url))
    if mode == "authcode":
        auth = planet_profiles.planet_sdk_auth()
        assert not auth.is_initialized()
        auth.user_login(allow_open_browser=True)
        auth.ensure_initialized()  # a fresh token: nothing to do
        return asyncio.run(requests_on_session(auth, url))
    if mode == "httpx":
        with httpx.Client(auth=planet_profiles.planet_sdk_auth(), timeout=30) as client:
            return {"answers": [answer(client.get(url))], "fetches_on_loop": []}
    raise SystemExit(f"unknown mode {mode!r}")


def main() -> int:
    mode, url = sys.argv[1], sys.argv[2]
    arg = sys.argv[3] if len(sys.argv) > 3 else None
    started = time.monotonic()
    where = {"planet_profiles": planet_profiles.__file__, "planet_auth_utils": planet_auth_utils.__file__}
    try:
        result = run(mode, url, arg)
    except Exception as exc:  # noqa: BLE001 - reported to the test as data
        emit(error=type(exc).__name__, message=str(exc)[:300], **where)
        return 1
    emit(**result, seconds=round(time.monotonic() - started, 3), **where)
    return 0


if __name__ == "__main__":
    sys.exit(main())
