"""Stage "authenticate requests": one object usable as `auth=` with requests, `httpx.Client` and
`httpx.AsyncClient`.

httpx is never imported here: once the program has imported httpx, `_context.for_loaded_transports` turns
the authenticator into its `httpx.Auth` subclass (`_authenticator_httpx`), so httpx calls its own flows.

The per-request path is a clock comparison and a header assignment. When the token is due, the sync
paths refresh under the manager's thread lock; the async path takes an `asyncio.Lock` and runs the
blocking refresh in a worker thread, so the event loop is never blocked (STYLE: httpx `async_auth_flow`).
The bearer token goes only into the `Authorization` header (SECURITY TOK-01), and with `allowed_api_hosts`
only to the origins listed there (TOK-02, TOK-12): `ApiOrigins` holds them as (scheme, host, port) triples,
precomputed, so the check per request is a set lookup.
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

    import httpx
    from requests import PreparedRequest, Response

__all__ = ["ApiOrigins", "RequestAuthenticator"]

log = logging.getLogger("planet_profiles.authenticator")

_DEFAULT_PORTS = {"https": 443, "http": 80}
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
_PREFIXES_KEPT = 256


class ApiOrigins:
    """The profile's `allowed_api_hosts` as origins (RFC 6454: scheme, host, port).

    An entry `https://host[:port]` or `http://loopback[:port]` allows that origin (the scheme's default port
    when none is given); `host:port` allows `https://host:port` (and `http://` too for a loopback host);
    a bare `host` allows `https://host` on port 443 and, for a loopback host (`localhost`, `127.0.0.1`,
    `::1`), http and https on any port (local development servers take a free port). Plain http to any
    other host is never allowed. Host names compare case-insensitively; `localhost` is not `127.0.0.1`.
    """

    def __init__(self, entries: Iterable[str]) -> None:
        exact: set[tuple[str, str, int | None]] = set()
        any_port: set[str] = set()
        for entry in entries:
            text = entry.strip().lower()
            parts = urlsplit(text if "://" in text else "//" + text)
            host, port = parts.hostname or "", parts.port
            scheme = parts.scheme or "https"
            if scheme not in _DEFAULT_PORTS or (scheme == "http" and host not in _LOOPBACK):
                continue  # the schema refuses these; never a match
            if parts.scheme or port is not None or host not in _LOOPBACK:
                schemes = ("https", "http") if not parts.scheme and host in _LOOPBACK else (scheme,)
                for each in schemes:
                    exact.add((each, host, port or _DEFAULT_PORTS[each]))
                    if (port or _DEFAULT_PORTS[each]) == _DEFAULT_PORTS[each]:
                        exact.add((each, host, None))  # a URL without a port: the default one
            else:
                any_port.add(host)
        self._exact = frozenset(exact)
        self._any_port = frozenset(any_port)
        self._by_prefix: dict[str, bool] = {}  # `scheme://authority` of URLs seen -> allowed

    def allows(self, scheme: str, host: str | None, port: int | None) -> bool:
        """Whether a request to `scheme://host:port` may carry the credential (`host` in lower case, as
        httpx and `urlsplit` give it; `port` None: the scheme's default)."""
        return (scheme, host, port) in self._exact or (host in self._any_port and scheme in _DEFAULT_PORTS)

    def allows_url(self, url: str) -> bool:
        """`allows` for a URL string (requests' `PreparedRequest.url`), remembered per `scheme://authority`
        so that most requests cost a slice and a dict look-up."""
        end = url.find("/", 8)  # the path's slash, after `https://` and the authority's first character
        prefix = url if end < 0 else url[:end]
        known = self._by_prefix.get(prefix)
        if known is None:
            parts = urlsplit(prefix)
            try:
                known = self.allows(parts.scheme, parts.hostname, parts.port)
            except ValueError:  # a port that is no number
                known = False
            if len(self._by_prefix) >= _PREFIXES_KEPT:
                self._by_prefix.clear()
            self._by_prefix[prefix] = known
        return known

    def __repr__(self) -> str:
        shown = [f"{s}://{h}:{p}" for s, h, p in sorted(self._exact, key=str) if p is not None] + [
            f"{h}:*" for h in sorted(self._any_port)
        ]
        return f"ApiOrigins({shown})"


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
        self._hosts = None if allowed_hosts is None else ApiOrigins(allowed_hosts)
        # (refresh due at, header value), swapped as one object so readers never see a mixed pair.
        self._state: tuple[float, str | None] = (float("inf") if manager is None else float("-inf"), header)
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
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

    def _refused(self, where: str) -> None:
        log.debug("not sending credentials to %s: not in allowed_api_hosts", where)

    # requests: `auth` is any callable taking and returning the PreparedRequest. (httpx calls it too, for an
    # authenticator made before httpx was imported: then only the header is set, see
    # `_context.for_loaded_transports`.)
    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        hosts = self._hosts
        if hosts is not None and not hosts.allows_url(url := str(request.url)):
            self._refused(url.split("?", 1)[0])
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

    def _requests_on_response(self, response: Response, **send_kwargs: Any) -> Response:
        if response.status_code != 401:
            return response
        request = response.request
        if request.body is not None and not isinstance(request.body, (bytes, str)):
            return response  # a streamed body cannot be sent twice
        sent = request.headers.get("Authorization")  # the str `__call__` set
        header = self._renew_after_401(sent if isinstance(sent, str) else None)
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
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        hosts, url = self._hosts, request.url
        if hosts is not None and not hosts.allows(url.scheme, url.host, url.port):
            self._refused(f"{url.scheme}://{url.host}")
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
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """planet-auth's `RequestAuthenticator.auth_flow`: a generator that yields `request` with its
        `Authorization` header set (the token refreshed first when due) and, after a 401 to the token it
        carried, once more with a fresh token. It is `sync_auth_flow`: httpx runs it in the calling thread,
        also for an `AsyncClient`, so a refresh there blocks the event loop; `planet_profiles.planet_sdk_auth`
        gives the SDK the non-blocking async flow instead."""
        yield from self.sync_auth_flow(request)

    # httpx, async client: never block the event loop on a refresh.
    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        import asyncio  # imported here: asyncio costs ~15 ms at start-up, and only async callers need it

        hosts, url = self._hosts, request.url
        if hosts is not None and not hosts.allows(url.scheme, url.host, url.port):
            self._refused(f"{url.scheme}://{url.host}")
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


def _carried(response: httpx.Response, header: str | None) -> bool:
    """The 401 answered a request that carried `header`: not one redirected to a host it was dropped for."""
    return header is not None and response.request.headers.get("Authorization") == header
