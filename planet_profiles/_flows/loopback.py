"""Stage "log in": the one-shot loopback listener that receives the authorization response (RFC 8252 §7.3).

The listener binds `127.0.0.1` (`::1` for a `[::1]` redirect URI), never a wildcard address, on the port of
the redirect URI or, when it has none, on an ephemeral port (RFC 8252 §7.3, SECURITY SEC-03). The host of
the redirect URI sent to the server stays as configured: servers match registered redirect URIs exactly, and
many have `localhost` registered. A `localhost` redirect listens on both loopback families, `127.0.0.1` and
`::1`, on the same port, so that no other local process can take the family the browser may resolve
`localhost` to (SEC-10; RFC 8252 §8.3 prefers the literal address for this reason). Without IPv6 nobody can
bind `::1`, and `127.0.0.1` alone is enough.

It answers requests to other paths with 404, and requests to the callback path that are not authorization
responses (no `code`, `error` or `state`) with 400, and keeps waiting. So it does with a response that does
not belong to this login (`belongs(query)` is false: a wrong or missing `state`), so that a forged request
from any local process cannot end the login (SEC-09): only the login's timeout does. The first response that
belongs is handed to the caller's `handle` function, which checks it (iss, error) and returns the code or
raises an `AuthError`; that response is the only one accepted, then the listener is done (SEC-04). The
browser gets a fixed page with the profile's acknowledgement text escaped into it (or a short failure page),
never the code, a token or HTML from the profile (SEC-11). Request lines carry the code, so nothing is logged.
"""

from __future__ import annotations

import errno
import html
import logging
import socket
import socketserver
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from .._errors import AuthError, StorageError
from .._locations import profile_relative_path

if TYPE_CHECKING:
    from .._config_views import AuthCodeFlowConfig

__all__ = ["DEFAULT_ACKNOWLEDGEMENT", "CallbackListener", "acknowledgement_page", "is_loopback_uri", "page"]

log = logging.getLogger("planet_profiles.loopback")

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
</head>
<body style="font-family: sans-serif; margin: 3em;">
<h1>{title}</h1>
<p style="white-space: pre-wrap;">{text}</p>
</body>
</html>
"""


def page(title: str, text: str) -> str:
    """The listener's one page: `title` and `text` escaped into a fixed template (no script can run)."""
    return _PAGE.format(title=html.escape(title), text=html.escape(text))


DEFAULT_ACKNOWLEDGEMENT = page("Login complete", "You can close this window and return to the application.")
# The page holds no script, image or link, and may load nothing (the address holds the code).
_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_LOOPBACK_HOSTS = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "::1": "::1"}
_BIND_ATTEMPTS = 20  # ephemeral ports tried for a `localhost` redirect whose port is taken on `::1`
_NO_IPV6 = frozenset({errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT})
_RESPONSE_KEYS = ("code", "error", "state")
_PAGE_LIMIT = 1 << 20
_CONNECTION_TIMEOUT = 10.0  # seconds an idle connection (e.g. a browser's pre-connect) may hold a thread


def acknowledgement_page(config: AuthCodeFlowConfig, *, file: str | None = None) -> str:
    """The page shown after the callback: the text of `authorization_callback_acknowledgement`, else of the
    file `authorization_callback_acknowledgement_file` (`~` expanded; relative to the profile file's
    directory), escaped into the fixed page (`page`); else `DEFAULT_ACKNOWLEDGEMENT`. The text is shown as
    text, also when it holds HTML: a profile from a team repo cannot run a script on the page whose address
    holds the code."""
    inline = config.authorization_callback_acknowledgement
    if inline:
        return page("Login complete", str(inline))
    name = config.authorization_callback_acknowledgement_file
    if not name:
        return DEFAULT_ACKNOWLEDGEMENT
    path = profile_relative_path(str(name), file)
    key = "authorization_callback_acknowledgement_file"
    try:
        with open(path, "rb") as handle:
            data = handle.read(_PAGE_LIMIT + 1)
    except OSError as exc:
        raise StorageError(
            f"cannot read {path}: {exc.strerror}", file=file, key=key, hint="Fix the path or remove the key"
        ) from None
    if len(data) > _PAGE_LIMIT:
        raise StorageError(f"{path} is larger than 1 MiB", file=file, key=key, hint="Use a smaller page")
    return page("Login complete", data.decode("utf-8", errors="replace"))


def is_loopback_uri(uri: str) -> bool:
    """True for `http://127.0.0.1…`, `http://localhost…` and `http://[::1]…` URIs."""
    parts = urlsplit(uri)
    return parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK_HOSTS


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stray connection that never sends a request must not block close()
    listener: CallbackListener

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), which can stall on DNS; not needed here.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("loopback listener: a connection failed", exc_info=True)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = _CONNECTION_TIMEOUT
    server_version = "planet-profiles"
    sys_version = ""

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self.server.listener._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # request lines hold the authorization code: never logged

    def reply(self, status: int, html_page: str) -> None:
        body = html_page.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")  # the page's URL holds the code
        self.send_header("Content-Security-Policy", _CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


class CallbackListener:
    """A one-shot HTTP listener for the redirect of one authorization request.

    `redirect_uri` is the configured loopback URI; `belongs(query)` says whether a response is this login's
    (its `state`); `handle(query)` gets the raw query string of the first response that belongs and returns
    the code or raises `AuthError`; `page` is the acknowledgement page. Use as a context manager: it listens
    from `__enter__` to `__exit__`.
    """

    def __init__(
        self,
        redirect_uri: str,
        *,
        handle: Callable[[str], str],
        belongs: Callable[[str], bool] = lambda query: True,
        page: str = DEFAULT_ACKNOWLEDGEMENT,
        key: str = "local_redirect_uri",
        file: str | None = None,
    ) -> None:
        parts = urlsplit(redirect_uri)
        if not is_loopback_uri(redirect_uri):
            raise AuthError(
                f"the redirect URI {redirect_uri!r} is not a loopback http URL; a local listener cannot "
                "receive it",
                file=file,
                key=key,
                hint="Set `local_redirect_uri` to e.g. `http://127.0.0.1/callback` (any free port is used)",
            )
        try:
            port = parts.port or 0
        except ValueError:
            raise AuthError(f"invalid port in {redirect_uri!r}", file=file, key=key) from None
        host = _LOOPBACK_HOSTS[parts.hostname or ""]
        try:
            self._servers = _bind(host, port, both_families=parts.hostname == "localhost")
        except OSError as exc:
            raise AuthError(
                f"cannot listen on {host if exc.filename is None else exc.filename} port {port}: "
                f"{exc.strerror}",
                file=file,
                key=key,
                hint="Free that port, or leave the port out of the redirect URI to use any free port",
            ) from None
        for server in self._servers:
            server.listener = self
        bound_port = int(self._servers[0].server_address[1])
        netloc = parts.netloc if parts.port else f"{parts.netloc}:{bound_port}"
        self.redirect_uri = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
        self.bound_address: tuple[str, int] = (host, bound_port)
        self.bound_hosts = tuple(str(server.server_address[0]) for server in self._servers)
        self._path = parts.path or "/"
        self._handle = handle
        self._belongs = belongs
        self._page = page
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._outcome: str | AuthError | None = None
        self._threads = [
            threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="planet-profiles-loopback",
                daemon=True,
            )
            for server in self._servers
        ]

    def __enter__(self) -> CallbackListener:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop listening (idempotent)."""
        for server, thread in zip(self._servers, self._threads, strict=True):
            if thread.is_alive():
                server.shutdown()
                thread.join()
            server.server_close()

    def answered(self) -> bool:
        """True once an authorization response was received (set before the browser gets its page)."""
        with self._lock:
            return self._outcome is not None

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the response to be received and answered."""
        return self._done.wait(max(timeout, 0.0))

    def code(self) -> str:
        """The authorization code; raises the `AuthError` of a refused response. Call after `wait()`."""
        with self._lock:
            outcome = self._outcome
        if isinstance(outcome, AuthError):
            raise outcome
        if outcome is None:
            raise RuntimeError("no authorization response yet")
        return outcome

    def _serve(self, request: _Handler) -> None:
        parts = urlsplit(request.path)
        if parts.path != self._path:
            request.send_error(404)
            return
        params = parse_qs(parts.query, keep_blank_values=True)
        if not any(key in params for key in _RESPONSE_KEYS):
            request.send_error(400, "Not an authorization response")
            return
        if not self._belongs(parts.query):  # SEC-09: a forged response must not end the login
            log.warning("the login listener refused a response that is not this login's (wrong or no state)")
            request.reply(400, page("Not this login", "This response is not for the login in progress."))
            return
        with self._lock:
            if self._outcome is not None:
                request.send_error(409, "The login was already completed")
                return
            try:
                self._outcome = self._handle(parts.query)
                status, answer = 200, self._page
            except AuthError as exc:
                self._outcome = exc
                status = 400
                answer = page("Login failed", f"{exc.message}\n\nReturn to the application for details.")
        try:
            request.reply(status, answer)
        finally:
            self._done.set()


def _bind(host: str, port: int, *, both_families: bool) -> list[_Server]:
    """The listening socket(s): `host` on `port` (0: ephemeral) and, for `localhost`, `::1` on the same
    port. An `OSError` names the address that could not be bound in its `filename`."""
    server_class = _Server6 if host == "::1" else _Server
    for _ in range(_BIND_ATTEMPTS):
        try:
            first = server_class((host, port), _Handler)
        except OSError as exc:
            exc.filename = host
            raise
        if not both_families:
            return [first]
        try:
            return [first, _Server6(("::1", int(first.server_address[1])), _Handler)]
        except OSError as exc:
            if exc.errno in _NO_IPV6:
                return [first]  # no IPv6 loopback here: nobody can take `::1` either
            first.server_close()
            if port or exc.errno != errno.EADDRINUSE:
                exc.filename = "::1"
                raise
            # the ephemeral port is free on 127.0.0.1 but taken on ::1: try another one
    raise OSError(errno.EADDRINUSE, "no port free on both 127.0.0.1 and ::1", "::1")
