"""Stage "authenticate requests": one object usable as `auth=` with requests, `httpx.Client` and
`httpx.AsyncClient`.

httpx is never imported here: once the program has imported httpx, `_context.for_loaded_transports` turns
the authenticator into its `httpx.Auth` subclass (`_authenticator_httpx`), so httpx calls its own flows.

The per-request path is a clock comparison and a header assignment. When the token is due, the sync
paths refresh under the manager's thread lock; the async path takes an `asyncio.Lock` and runs the
blocking refresh in a worker thread, so the event loop is never blocked (STYLE: httpx `async_auth_flow`).
The bearer token goes only into the `Authorization` header (SECURITY TOK-01).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Generator, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._names import public
from ._token_manager import TokenManager, refresh_at

if TYPE_CHECKING:
    import asyncio

__all__ = ["RequestAuthenticator"]

log = logging.getLogger("planet_profiles.authenticator")


@public
class RequestAuthenticator:
    """Adds `Authorization` to outgoing requests; call it as requests' `auth`, or pass it to httpx.

    A request answered 401 is retried once with a freshly obtained token, if it carried the current one
    (a token revoked or expired early at the server); the renewal is single-flight like any other.
    """

    requires_request_body = False
    requires_response_body = False

    def __init__(
        self,
        *,
        header: str | None = None,
        manager: TokenManager | None = None,
        allowed_hosts: Iterable[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._manager = manager
        self._clock = clock
        # The profile's `allowed_api_hosts` (TOK-02): None sends the header to any host.
        self._hosts = None if allowed_hosts is None else frozenset(h.lower() for h in allowed_hosts)
        # (refresh due at, header value), swapped as one object so readers never see a mixed pair.
        self._state: tuple[float, str | None] = (float("inf") if manager is None else float("-inf"), header)
        self._async_locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()
        self._on_response = self._requests_on_response  # bound once: it is attached to every request

    def _install(self) -> str | None:
        assert self._manager is not None
        token = self._manager.token()
        header = self._manager.client.authorization(token)
        self._state = (refresh_at(token), header)
        return header

    def _current(self) -> str | None:
        due, header = self._state
        return self._install() if self._clock() >= due else header

    def _renew_after_401(self, sent: str | None) -> str | None:
        """After a 401 to a request that carried `sent`: the header to retry with, or None (no retry)."""
        if self._manager is None or not sent or not sent.startswith("Bearer "):
            return None
        token = self._manager.renew_if_current(sent[len("Bearer ") :])
        header = f"Bearer {token.access_token}"
        self._state = (refresh_at(token), header)
        return header if header != sent else None

    def reset(self) -> None:
        """Forget the cached header: the next request asks the token manager again (after a login)."""
        if self._manager is not None:
            self._state = (float("-inf"), None)

    def header_value(self) -> str | None:
        """The current `Authorization` value (refreshing the token first if it is due)."""
        return self._current()

    def _allowed(self, host: str | None) -> bool:
        if self._hosts is None or (host or "").lower() in self._hosts:
            return True
        log.debug("not sending credentials to %s: not in allowed_api_hosts", host)
        return False

    # requests: `auth` is any callable taking and returning the PreparedRequest. (httpx calls it too, for an
    # authenticator made before httpx was imported: then only the header is set, see
    # `_context.for_loaded_transports`.)
    def __call__(self, request: Any) -> Any:
        if self._hosts is not None and not self._allowed(urlsplit(str(request.url)).hostname):
            return request
        due, header = self._state
        if self._clock() >= due:
            header = self._install()
        if header is not None:
            request.headers["Authorization"] = header
            if self._manager is not None:
                # `PreparedRequest.hooks` always has a "response" list; `register_hook` would check the
                # event name and `isinstance(hook, Callable)` again on every request.
                try:
                    request.hooks["response"].append(self._on_response)
                except AttributeError:  # an httpx.Request, through httpx's FunctionAuth: no response hooks
                    pass
        return request

    def _requests_on_response(self, response: Any, **send_kwargs: Any) -> Any:
        if response.status_code != 401:
            return response
        request = response.request
        if request.body is not None and not isinstance(request.body, (bytes, str)):
            return response  # a streamed body cannot be sent twice
        header = self._renew_after_401(request.headers.get("Authorization"))
        if header is None:
            return response
        response.content  # noqa: B018  - release the connection before reusing it
        response.close()
        retry = request.copy()
        retry.hooks["response"] = [h for h in retry.hooks["response"] if h != self._on_response]
        retry.headers["Authorization"] = header
        answer = response.connection.send(retry, **send_kwargs)
        answer.history.append(response)
        answer.request = retry
        return answer

    # httpx, sync client.
    def sync_auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        if self._hosts is not None and not self._allowed(request.url.host):
            yield request
            return
        due, header = self._state  # `_current()` inlined: this runs for every request
        if self._clock() >= due:
            header = self._install()
        if header is not None:
            request.headers["Authorization"] = header
        response = yield request
        if response.status_code == 401 and self._manager is not None and _carried(response, header):
            retry_header = self._renew_after_401(header)
            if retry_header is not None:
                request.headers["Authorization"] = retry_header
                yield request

    # planet-auth's contract: `planet.Auth._from_plauth(ctx)` (the planet SDK) hands every request to
    # `ctx.request_authenticator().auth_flow(request)` from its own httpx.Auth.
    def auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        """planet-auth's `RequestAuthenticator.auth_flow`: a generator that yields `request` with its
        `Authorization` header set (the token refreshed first when due) and, after a 401 to the token it
        carried, once more with a fresh token. It is `sync_auth_flow`: httpx runs it in the calling thread,
        also for an `AsyncClient`, so a refresh there blocks the event loop; `planet_profiles.planet_sdk_auth`
        gives the SDK the non-blocking async flow instead."""
        yield from self.sync_auth_flow(request)

    # httpx, async client: never block the event loop on a refresh.
    async def async_auth_flow(self, request: Any) -> AsyncGenerator[Any, Any]:
        import asyncio  # imported here: asyncio costs ~15 ms at start-up, and only async callers need it

        if self._hosts is not None and not self._allowed(request.url.host):
            yield request
            return
        due, header = self._state
        if self._clock() >= due:
            async with self._async_lock():
                due, header = self._state
                if self._clock() >= due:
                    header = await asyncio.to_thread(self._install)
        if header is not None:
            request.headers["Authorization"] = header
        response = yield request
        if response.status_code == 401 and self._manager is not None and _carried(response, header):
            async with self._async_lock():
                retry_header = await asyncio.to_thread(self._renew_after_401, header)
            if retry_header is not None:
                request.headers["Authorization"] = retry_header
                yield request

    def _async_lock(self) -> asyncio.Lock:
        import asyncio

        loop = asyncio.get_running_loop()
        lock = self._async_locks.get(loop)
        if lock is None:
            lock = self._async_locks.setdefault(loop, asyncio.Lock())
        return lock

    def __repr__(self) -> str:
        if self._manager is not None:
            return f"RequestAuthenticator({self._manager.client!r})"
        return f"RequestAuthenticator({'static' if self._state[1] else 'none'})"


def _carried(response: Any, header: str | None) -> bool:
    """The 401 answered a request that carried `header`: not one redirected to a host it was dropped for."""
    return header is not None and response.request.headers.get("Authorization") == header
