"""Stage "log in": the one-shot loopback listener that receives the authorization response (RFC 8252 §7.3).

The listener binds `127.0.0.1` (`::1` for a `[::1]` redirect URI), never a wildcard address, on the port of
the redirect URI or, when it has none, on an ephemeral port (RFC 8252 §7.3, SECURITY SEC-03). The host of
the redirect URI sent to the server stays as configured (e.g. `localhost`).

It answers requests to other paths with 404, and requests to the callback path that are not authorization
responses (no `code`, `error` or `state`) with 400, and keeps waiting. The first authorization response is
handed to the caller's `handle` function, which checks it (state, iss, error) and returns the code or raises
an `AuthError`; that response is the only one accepted, then the listener is done (SEC-04). The browser gets
the acknowledgement page (or a short failure page), never the code or a token. Request lines carry the code,
so nothing is logged.
"""

from __future__ import annotations

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
    from .._config import AuthCodeFlowConfig

__all__ = ["DEFAULT_ACKNOWLEDGEMENT", "CallbackListener", "acknowledgement_page", "is_loopback_uri"]

log = logging.getLogger("planet_profiles.loopback")

DEFAULT_ACKNOWLEDGEMENT = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="referrer" content="no-referrer">
<title>Login complete</title>
</head>
<body style="font-family: sans-serif; margin: 3em;">
<h1>Login complete</h1>
<p>You can close this window and return to the application.</p>
</body>
</html>
"""

_FAILURE_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Login failed</title></head>
<body style="font-family: sans-serif; margin: 3em;">
<h1>Login failed</h1>
<p>{reason}</p>
<p>Return to the application for details.</p>
</body>
</html>
"""

_LOOPBACK_HOSTS = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "::1": "::1"}
_RESPONSE_KEYS = ("code", "error", "state")
_PAGE_LIMIT = 1 << 20
_CONNECTION_TIMEOUT = 10.0  # seconds an idle connection (e.g. a browser's pre-connect) may hold a thread


def acknowledgement_page(config: AuthCodeFlowConfig, *, file: str | None = None) -> str:
    """The page shown after the callback: `authorization_callback_acknowledgement` (HTML), else the file
    `authorization_callback_acknowledgement_file` (`~` expanded; relative to the profile file's directory),
    else `DEFAULT_ACKNOWLEDGEMENT`. It is shown as is: it cannot show the code."""
    inline = config.authorization_callback_acknowledgement
    if inline:
        return str(inline)
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
    return data.decode("utf-8", errors="replace")


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

    def reply(self, status: int, page: str) -> None:
        body = page.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")  # the page's URL holds the code
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)


class CallbackListener:
    """A one-shot HTTP listener for the redirect of one authorization request.

    `redirect_uri` is the configured loopback URI; `handle(query)` gets the raw query string of the first
    authorization response and returns the code or raises `AuthError`; `page` is the acknowledgement HTML.
    Use as a context manager: it listens from `__enter__` to `__exit__`.
    """

    def __init__(
        self,
        redirect_uri: str,
        *,
        handle: Callable[[str], str],
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
        server_class = _Server6 if host == "::1" else _Server
        try:
            self._server = server_class((host, port), _Handler)
        except OSError as exc:
            raise AuthError(
                f"cannot listen on {host} port {port}: {exc.strerror}",
                file=file,
                key=key,
                hint="Free that port, or leave the port out of the redirect URI to use any free port",
            ) from None
        self._server.listener = self
        bound_port = int(self._server.server_address[1])
        netloc = parts.netloc if parts.port else f"{parts.netloc}:{bound_port}"
        self.redirect_uri = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
        self.bound_address: tuple[str, int] = (host, bound_port)
        self._path = parts.path or "/"
        self._handle = handle
        self._page = page
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._outcome: str | AuthError | None = None
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="planet-profiles-loopback",
            daemon=True,
        )

    def __enter__(self) -> CallbackListener:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop listening (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

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
        with self._lock:
            if self._outcome is not None:
                request.send_error(409, "The login was already completed")
                return
            try:
                self._outcome = self._handle(parts.query)
                status, page = 200, self._page
            except AuthError as exc:
                self._outcome = exc
                status, page = 400, _FAILURE_PAGE.format(reason=html.escape(exc.message))
        try:
            request.reply(status, page)
        finally:
            self._done.set()
