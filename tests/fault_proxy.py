"""A loopback HTTP relay in front of the real OIDC dev server that injects faults on command. Stdlib only.

`FaultProxy(upstream)` listens on `127.0.0.1` (ephemeral port) and forwards every request unchanged to
`upstream` (e.g. `DevServer.issuer`): same method, path, query, headers and body, and the upstream's status,
headers and body back. Only hop-by-hop headers are dropped (RFC 9110 §7.6.1), `Host` names the upstream and
`Content-Length` is recomputed; every connection is closed after one exchange (`Connection: close`).

`proxy.inject(path, fault, times=N)` makes the next N requests for `path` (exact path without the query, or
`"*"` for every path) fail with `fault`; `times=None` means for ever; afterwards they pass through again.
Faults (`Fault.*`):

| fault | what the client sees | reaches the server? |
|---|---|---|
| `status(code, retry_after=…, body=…)` | that status (500, 503, 429 …), a JSON or empty body | no |
| `hang(seconds)` | nothing: the request is read, no answer until `seconds` pass (or the proxy closes) | no |
| `close()` | the connection closed (FIN) after the request, without an answer | no |
| `reset()` | a TCP reset (`SO_LINGER` 0, then close) after the request | no |
| `invalid_json()` | the server's real answer, its body cut in half (no longer JSON) | yes |
| `without(member)` | the server's real JSON answer without the top-level `member` (e.g. `expires_in`) | yes |
| `patch(edit, status=…)` | the server's real JSON answer as `edit(payload)` returns it (and `status`) | yes |

`patch` plays other servers' quirks on the real server's answers: `"expires_in": "3599"`, `slow_down` as 401…

`proxy.count(path)` / `proxy.counts()` count the requests that arrived, per path, faulted or not;
`proxy.log` lists `(method, path, action)` in order of arrival. Nothing of the bodies or headers is kept.

Like any reverse proxy, the relay rewrites a `Location` header that points at the upstream to point at
itself. With `FaultProxy(upstream, rehost=True)` it also sends its own `Host` to the upstream, so every URL
the dev server builds (discovery's endpoints, redirects, form actions) names the relay, while the discovery
document's `issuer` stays the real one: a profile then needs only `auth_server` = the relay and `issuer` =
the server, and a browser (`devserver/headless.py`) stays on the relay through a whole login.

`FaultProxy(upstream, record=True)` also keeps, per request, what is visible on the wire about OAuth without
keeping a secret (`Exchange`): the client authentication method, where `client_id` was sent, the names of all
parameters, the values of the public ones (`grant_type`, `scope`, `audience`, `resource`, …), the
`Authorization` scheme and the status of the answer. `proxy.exchanges` lists them in order of arrival; the
differential test against planet-auth (`tests/test_wire_parity.py`) compares them.
"""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import struct
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["Exchange", "Fault", "FaultProxy"]

# RFC 9110 §7.6.1 (plus the ones we recompute): never relayed as they were.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
_UPSTREAM_TIMEOUT = 30.0


@dataclass(frozen=True)
class Fault:
    """One kind of failure; build it with the class methods."""

    kind: str
    status_code: int = 0
    retry_after: str | None = None
    body: bytes = b""
    seconds: float = 0.0
    member: str = ""
    edit: Callable[[Any], Any] | None = None

    @classmethod
    def status(
        cls, code: int, *, retry_after: float | str | None = None, body: Mapping[str, Any] | None = None
    ) -> Fault:
        """Answer `code` without asking the server; `body` (e.g. an RFC 6749 §5.2 error) as JSON."""
        raw = json.dumps(dict(body)).encode() if body is not None else b""
        after = None if retry_after is None else str(retry_after)
        return cls("status", status_code=code, retry_after=after, body=raw)

    @classmethod
    def hang(cls, seconds: float = 300.0) -> Fault:
        """Read the request and answer nothing for `seconds` (then close); `close()` of the proxy ends it."""
        return cls("hang", seconds=seconds)

    @classmethod
    def close(cls) -> Fault:
        """Read the request, then close the connection without an answer."""
        return cls("close")

    @classmethod
    def reset(cls) -> Fault:
        """Read the request, then reset the connection (RST: `SO_LINGER` on with a zero timeout)."""
        return cls("reset")

    @classmethod
    def invalid_json(cls) -> Fault:
        """Forward the request; return the server's answer with its body truncated to half its length."""
        return cls("invalid_json")

    @classmethod
    def without(cls, member: str) -> Fault:
        """Forward the request; remove the top-level `member` from the server's JSON answer."""
        return cls("without", member=member)

    @classmethod
    def patch(cls, edit: Callable[[Any], Any], *, status: int = 0) -> Fault:
        """Forward the request; answer with `edit(the server's JSON payload)`, and `status` when given."""
        return cls("patch", edit=edit, status_code=status)

    @property
    def forwards(self) -> bool:
        return self.kind in ("invalid_json", "without", "patch")

    def __str__(self) -> str:
        return {
            "status": f"status {self.status_code}",
            "hang": f"hang {self.seconds:g}s",
            "without": f"without {self.member}",
            "patch": f"patch {self.status_code}" if self.status_code else "patch",
        }.get(self.kind, self.kind)


@dataclass
class _Rule:
    path: str
    fault: Fault
    remaining: int | None  # None: for ever


def _decoded(headers: list[tuple[str, str]], body: bytes) -> tuple[list[tuple[str, str]], bytes]:
    """The body without its `Content-Encoding` (so it can be rewritten), and the headers without it."""
    encoding = next((v.strip().lower() for k, v in headers if k.lower() == "content-encoding"), "")
    if encoding in ("gzip", "x-gzip"):
        body = gzip.decompress(body)
    elif encoding == "deflate":
        body = zlib.decompress(body)
    elif encoding not in ("", "identity"):
        raise ValueError(f"cannot rewrite a {encoding!r} body")
    return [(k, v) for k, v in headers if k.lower() != "content-encoding"], body


def _rewrite(
    fault: Fault, headers: list[tuple[str, str]], body: bytes
) -> tuple[list[tuple[str, str]], bytes]:
    headers, body = _decoded(headers, body)
    if fault.kind == "invalid_json":
        return headers, body[: len(body) // 2]
    payload = json.loads(body)
    if fault.kind == "patch":
        assert fault.edit is not None
        payload = fault.edit(payload)
    elif isinstance(payload, dict):
        payload.pop(fault.member, None)
    return headers, json.dumps(payload).encode()


# Request parameters whose values are public (no secret, code or token) and worth comparing.
PUBLIC_PARAMS = frozenset(
    {
        "grant_type",
        "scope",
        "audience",
        "resource",
        "token_type_hint",
        "response_type",
        "prompt",
        "code_challenge_method",
        "client_assertion_type",
        "organization",
        "project_id",
    }
)


@dataclass(frozen=True)
class Exchange:
    """What one request showed on the wire (no secret, code or token value is kept).

    `client_auth`: `client_secret_basic`, `client_secret_post`, `private_key_jwt`, `none` (only a
    `client_id` in the form), or None (no client identified: discovery, API calls). `client_id_in`: where
    the client id was sent (`basic`, `form`, `query`). `params`: the values of `PUBLIC_PARAMS` sent;
    `names`: every parameter name sent (query or form). `scheme`: of the `Authorization` header.
    """

    method: str
    path: str
    status: int
    client_auth: str | None
    client_id_in: tuple[str, ...]
    params: Mapping[str, str]
    names: tuple[str, ...]
    scheme: str | None


def _exchange(method: str, target: str, headers: Any, body: bytes, status: int) -> Exchange:
    parts = urlsplit(target)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    kind = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
    form = (
        dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if kind == "application/x-www-form-urlencoded"
        else {}
    )
    authorization = headers.get("Authorization") or ""
    scheme = authorization.split(" ", 1)[0] or None
    basic = scheme is not None and scheme.lower() == "basic"
    placed = [where for where, there in (("basic", basic), ("form", "client_id" in form)) if there]
    if "client_id" in query:
        placed.append("query")
    if basic:
        client_auth: str | None = "client_secret_basic"
    elif "client_assertion" in form:
        client_auth = "private_key_jwt"
    elif "client_secret" in form:
        client_auth = "client_secret_post"
    elif "client_id" in form:
        client_auth = "none"
    else:
        client_auth = None
    sent = {**query, **form}
    return Exchange(
        method=method,
        path=parts.path,
        status=status,
        client_auth=client_auth,
        client_id_in=tuple(placed),
        params={name: value for name, value in sent.items() if name in PUBLIC_PARAMS},
        names=tuple(sorted(sent)),
        scheme=scheme,
    )


class FaultProxy:
    """`with FaultProxy(upstream) as proxy: proxy.url` — a faulting relay to `upstream` (see module doc)."""

    def __init__(self, upstream: str, *, record: bool = False, rehost: bool = False) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, not {upstream!r}")
        self._upstream_host = parts.hostname
        self._upstream_port = parts.port or 80
        self._upstream_netloc = parts.netloc
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._counts: Counter[str] = Counter()
        self.log: list[tuple[str, str, str]] = []
        self.record = record
        self.rehost = rehost
        self.exchanges: list[Exchange] = []
        self._released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    # -- control -------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The proxy's base URL (`http://127.0.0.1:PORT`), standing in for the upstream's."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def inject(self, path: str, fault: Fault, *, times: int | None = 1) -> None:
        """Fail the next `times` requests for `path` (`"*"`: any path) with `fault`; None: for ever."""
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 (or None for ever)")
        with self._lock:
            self._rules.append(_Rule(path, fault, times))

    def clear(self) -> None:
        """Drop every pending fault: all requests pass through from now on."""
        with self._lock:
            self._rules.clear()

    def count(self, path: str) -> int:
        """How many requests for `path` arrived (faulted or passed through)."""
        with self._lock:
            return self._counts[path]

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()
            self.log.clear()
            self.exchanges.clear()

    def _recorded(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def close(self) -> None:
        self._released.set()  # ends hanging handlers
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FaultProxy({self.url} -> http://{self._upstream_netloc})"

    # -- request path --------------------------------------------------------------------------------------
    def _arrive(self, method: str, path: str) -> Fault | None:
        """Count the request and take the fault that applies to it, if any (one use of its rule)."""
        with self._lock:
            self._counts[path] += 1
            for rule in self._rules:
                if rule.path in (path, "*"):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining == 0:
                            self._rules.remove(rule)
                    self.log.append((method, path, str(rule.fault)))
                    return rule.fault
            self.log.append((method, path, "pass"))
            return None

    def _forward(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self._upstream_host, self._upstream_port, timeout=_UPSTREAM_TIMEOUT)
        try:
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", self.url.split("//", 1)[1] if self.rehost else self._upstream_netloc)
            for name, value in headers:
                conn.putheader(name, value)
            if body or method in ("POST", "PUT", "PATCH"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body or None)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.reason, resp.getheaders(), data
        finally:
            conn.close()

    def _local_location(self, location: str) -> str:
        """A redirect to the upstream, pointed at the relay instead (a reverse proxy's `Location` rewrite)."""
        upstream = f"http://{self._upstream_netloc}"
        if location == upstream or location.startswith(upstream + "/"):
            return self.url + location[len(upstream) :]
        return location

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # but one exchange per connection: we send `Connection: close`

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet, and no secrets
                pass

            def _relay(self) -> None:
                self.close_connection = True
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = urlsplit(self.path).path
                fault = proxy._arrive(self.command, path)
                if fault is None or fault.forwards:
                    headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP]
                    status, reason, out_headers, out_body = proxy._forward(
                        self.command, self.path, headers, body
                    )
                    if fault is not None:
                        out_headers, out_body = _rewrite(fault, out_headers, out_body)
                        if fault.status_code:
                            status, reason = fault.status_code, None
                    out_headers = [
                        (k, proxy._local_location(v) if k.lower() == "location" else v)
                        for k, v in out_headers
                    ]
                    if proxy.record:
                        proxy._recorded(_exchange(self.command, self.path, self.headers, body, status))
                    self._answer(status, reason, out_headers, out_body)
                elif fault.kind == "status":
                    extra = [("Retry-After", fault.retry_after)] if fault.retry_after is not None else []
                    kind = [("Content-Type", "application/json; charset=utf-8")] if fault.body else []
                    self._answer(fault.status_code, None, kind + extra, fault.body)
                elif fault.kind == "hang":
                    proxy._released.wait(fault.seconds)
                elif fault.kind == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()  # the RST goes out when finish() drops the last file reference
                # "close": return without a word; the server closes the connection (FIN)

            def _answer(
                self, status: int, reason: str | None, headers: list[tuple[str, str]], body: bytes
            ) -> None:
                self.send_response_only(status, reason)
                for name, value in headers:
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _relay

        return Handler
