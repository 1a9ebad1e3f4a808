"""Stage "talk to the auth server": the one HTTP helper every OAuth call goes through.

Every call has a timeout; transient failures (connection errors, timeouts, 5xx, 429) are retried a bounded
number of times with exponential backoff, honouring `Retry-After` up to a cap (SECURITY NET-01). Anything
else is returned to the caller, which maps it to a typed error. `requests` is imported on first use.

A response body (token endpoint, discovery, JWKS, …) may hold at most `MAX_BODY_BYTES`: it is read as a
stream and the connection dropped as soon as it holds more (or announces more in `Content-Length`), so a
hostile or broken server cannot make a client buffer gigabytes.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from ._errors import TransportError

__all__ = ["MAX_BODY_BYTES", "HttpResponse", "RetryPolicy", "request"]

log = logging.getLogger("planet_profiles.http")

_local = threading.local()


class RetryPolicy(NamedTuple):
    """How often and how patiently to retry transient failures."""

    attempts: int = 3
    backoff: float = 0.25
    max_wait: float = 10.0
    timeout: tuple[float, float] = (5.0, 15.0)  # (connect, read) seconds
    sleep: Callable[[float], None] = time.sleep


DEFAULT_POLICY = RetryPolicy()
MAX_BODY_BYTES = 1 << 20
"""The largest response body accepted (1 MiB); token, discovery and JWKS responses are a few kB."""
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class HttpResponse(NamedTuple):
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> object:
        import json

        return json.loads(self.body)


def _session() -> Any:
    session = getattr(_local, "session", None)
    if session is None:
        import requests

        session = requests.Session()
        session.trust_env = True
        _local.session = session
    return session


def _retry_after(value: str | None, cap: float) -> float | None:
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), cap)
    except ValueError:
        return None


def _body(resp: Any, host: str) -> bytes:
    """The body of a streamed `requests` response, refused beyond `MAX_BODY_BYTES` (decoded size)."""
    too_large = TransportError(
        f"the response of {host} is larger than {MAX_BODY_BYTES // 1024} KiB; refused",
        hint=f"Check that {host} is the auth server the profile means",
    )
    try:
        announced = int(resp.headers.get("Content-Length") or 0)
    except ValueError:
        announced = 0
    if announced > MAX_BODY_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_content(1 << 16):
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def request(
    method: str,
    url: str,
    *,
    data: Mapping[str, str] | bytes | None = None,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    policy: RetryPolicy | None = None,
) -> HttpResponse:
    """Send one request with retries. Returns the last response; raises `TransportError` if none came.

    Nothing of the body or headers is logged: they may carry secrets, codes and tokens. Without `policy`,
    `DEFAULT_POLICY` as it is at call time (tests and embedding applications may replace it).
    """
    import requests

    if policy is None:
        policy = DEFAULT_POLICY

    host = urlsplit(url).netloc or url
    last_error: str | None = None
    for attempt in range(1, policy.attempts + 1):
        try:
            resp = _session().request(
                method,
                url,
                data=data,
                headers=headers,
                auth=auth,
                timeout=policy.timeout,
                allow_redirects=False,
                stream=True,
            )
            try:
                body = _body(resp, host)
            finally:
                resp.close()
        except requests.Timeout:
            last_error = "timed out"
            wait = None
        except requests.ConnectionError:
            last_error = "connection failed"
            wait = None
        except requests.RequestException as exc:
            raise TransportError(f"request to {host} failed: {type(exc).__name__}", key=url) from None
        else:
            result = HttpResponse(resp.status_code, dict(resp.headers), body)
            if resp.status_code not in _RETRY_STATUS or attempt == policy.attempts:
                log.debug("%s %s -> %s (attempt %d)", method, url, resp.status_code, attempt)
                return result
            last_error = f"HTTP {resp.status_code}"
            wait = _retry_after(resp.headers.get("Retry-After"), policy.max_wait)
        if attempt == policy.attempts:
            break
        if wait is None:
            wait = min(policy.backoff * 2 ** (attempt - 1), policy.max_wait) * (0.5 + random.random() / 2)  # noqa: S311
        log.debug("%s %s: %s, retry %d in %.2fs", method, url, last_error, attempt, wait)
        policy.sleep(wait)
    raise TransportError(
        f"{method} {url}: {last_error} after {policy.attempts} attempts",
        hint=f"Check that {host} is reachable (network, proxy, auth_server in the profile)",
    )
