"""Stage "authenticate requests", for httpx: `RequestAuthenticator` as an `httpx.Auth`.

httpx calls an `auth=` object's `sync_auth_flow` / `async_auth_flow` only when it is an `httpx.Auth`; any
other callable it wraps in `FunctionAuth`, which neither retries after a 401 nor keeps a refresh off the
event loop. This module is imported only by programs that have imported httpx themselves
(`_context.for_loaded_transports`), so a requests-only program never pays for httpx.
"""

from __future__ import annotations

import httpx

from ._authenticator import RequestAuthenticator

__all__ = ["HttpxRequestAuthenticator"]


class HttpxRequestAuthenticator(RequestAuthenticator, httpx.Auth):
    """The same authenticator, and an `httpx.Auth`: every method comes from `RequestAuthenticator`
    (first in the MRO), so requests, httpx sync and async and planet-auth's `auth_flow` all behave alike."""
