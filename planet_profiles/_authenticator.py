"""Stage "authenticate requests": one object usable as `auth=` with requests, `httpx.Client` and
`httpx.AsyncClient`.

The per-request path is a clock comparison and a header assignment. When the token is due, the sync
paths refresh under the manager's thread lock; the async path takes an `asyncio.Lock` and runs the
blocking refresh in a worker thread, so the event loop is never blocked (STYLE: httpx `async_auth_flow`).
The bearer token goes only into the `Authorization` header (SECURITY TOK-01).
"""

from __future__ import annotations

import asyncio
import functools
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

from ._session import TokenManager, refresh_at

__all__ = ["RequestAuthenticator", "make_authenticator"]


class RequestAuthenticator:
    """Adds `Authorization` to outgoing requests; call it as requests' `auth`, or pass it to httpx."""

    requires_request_body = False
    requires_response_body = False

    def __init__(
        self,
        *,
        header: str | None = None,
        manager: TokenManager | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._manager = manager
        self._clock = clock
        self._header = header
        self._fresh_until = float("inf") if manager is None else float("-inf")
        self._async_locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()

    def _install(self) -> None:
        assert self._manager is not None
        token = self._manager.token()
        self._header = f"Bearer {token.access_token}"
        self._fresh_until = refresh_at(token)

    def reset(self) -> None:
        """Forget the cached header: the next request asks the token manager again (after a login)."""
        if self._manager is not None:
            self._fresh_until = float("-inf")

    def header_value(self) -> str | None:
        """The current `Authorization` value (refreshing the token first if it is due)."""
        if self._clock() >= self._fresh_until:
            self._install()
        return self._header

    # requests: `auth` is any callable taking and returning the PreparedRequest.
    def __call__(self, request: Any) -> Any:
        if self._clock() >= self._fresh_until:
            self._install()
        if self._header is not None:
            request.headers["Authorization"] = self._header
        return request

    # httpx, sync client.
    def sync_auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        self(request)
        yield request

    # httpx, async client: never block the event loop on a refresh.
    async def async_auth_flow(self, request: Any) -> AsyncGenerator[Any, Any]:
        if self._clock() >= self._fresh_until:
            loop = asyncio.get_running_loop()
            lock = self._async_locks.get(loop)
            if lock is None:
                lock = self._async_locks.setdefault(loop, asyncio.Lock())
            async with lock:
                if self._clock() >= self._fresh_until:
                    await asyncio.to_thread(self._install)
        if self._header is not None:
            request.headers["Authorization"] = self._header
        yield request

    def __repr__(self) -> str:
        source = repr(self._manager.client) if self._manager else ("static" if self._header else "none")
        return f"RequestAuthenticator({source})"


@functools.lru_cache(maxsize=1)
def _bound_class() -> type[RequestAuthenticator]:
    """`RequestAuthenticator` also deriving from `httpx.Auth` when httpx is installed (httpx checks
    `isinstance(auth, httpx.Auth)` before it calls `sync_auth_flow` / `async_auth_flow`)."""
    try:
        import httpx
    except ImportError:
        return RequestAuthenticator
    return type("RequestAuthenticator", (RequestAuthenticator, httpx.Auth), {"__module__": __name__})


def make_authenticator(
    *, header: str | None = None, manager: TokenManager | None = None
) -> RequestAuthenticator:
    return _bound_class()(header=header, manager=manager)
