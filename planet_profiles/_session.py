"""Stage "stay logged in": one `TokenManager` per profile keeps a valid token at hand.

The token is refreshed (or re-granted, for client credentials) ahead of expiry: once less than
`min(60 s, 10 % of its lifetime)` is left. One refresh at a time per process: callers wait on a lock and
re-check after taking it, so any number of threads get one token request (SECURITY TOK-03, TOK-04). A new
token is persisted before it is handed out (TOK-06).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ._clients import AuthClient
from ._errors import InvalidGrantError, LoginRequiredError
from ._tokens import Token, TokenStore

__all__ = ["TokenManager"]

log = logging.getLogger("planet_profiles.session")

_MAX_WINDOW = 60.0
_WINDOW_FRACTION = 0.1


def refresh_at(token: Token) -> float:
    """When `token` should be replaced: `inf` for tokens without an expiry."""
    expires = token.expires_at
    if expires is None:
        return float("inf")
    issued = token.issued_at if token.issued_at is not None else expires
    window = min(_MAX_WINDOW, max(expires - issued, 0.0) * _WINDOW_FRACTION)
    return expires - window


class TokenManager:
    """Keeps the current token of one profile fresh, for any number of threads."""

    def __init__(
        self, client: AuthClient, store: TokenStore, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.client = client
        self.store = store
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Token | None = None
        self._loaded = False

    def cached(self) -> Token | None:
        """The token in memory (loading the store once), without any network call."""
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self._token = self.store.load()
                    self._loaded = True
        return self._token

    def is_fresh(self, token: Token | None) -> bool:
        return token is not None and self._clock() < refresh_at(token)

    def can_renew_silently(self) -> bool:
        """True when a valid token exists or can be had without a user (no network call is made)."""
        token = self.cached()
        return self.is_fresh(token) or self.client.unattended or bool(token and token.refresh_token)

    def token(self) -> Token:
        """A token that is not due for refresh; refreshes or re-grants (once, under the lock) if needed."""
        token = self.cached()
        if self.is_fresh(token):
            assert token is not None
            return token
        with self._lock:
            token = self._token
            if self.is_fresh(token):  # another thread refreshed while we waited (TOK-03)
                assert token is not None
                return token
            new = self._renew(token)
            self.store.save(new)  # persist before use (TOK-06)
            self._token = new
            return new

    def renew_if_current(self, access_token: str) -> Token:
        """The server refused `access_token` (HTTP 401): renew unless another caller already did."""
        with self._lock:
            current = self._token
            if current is None or current.access_token == access_token:
                new = self._renew(current)
                self.store.save(new)
                self._token = new
            assert self._token is not None
            return self._token

    def set(self, token: Token) -> None:
        """Install a token obtained elsewhere (login, `initial_token_data`) and persist it."""
        with self._lock:
            self.store.save(token)
            self._token = token
            self._loaded = True

    def clear(self) -> None:
        with self._lock:
            self.store.delete()
            self._token = None
            self._loaded = True

    def _renew(self, token: Token | None) -> Token:
        if token is not None and token.refresh_token:
            try:
                log.debug("refreshing the token of %r", self.client)
                return self.client.refresh(token)
            except InvalidGrantError:
                if not self.client.unattended:
                    raise LoginRequiredError(
                        "the refresh token was refused (expired or revoked)",
                        file=self.client.file,
                        hint="Log in again: `planet-profiles login NAME`",
                    ) from None
        log.debug("requesting a new token for %r", self.client)
        return self.client.grant()

    def __repr__(self) -> str:
        return f"TokenManager({self.client!r}, {self.store!r})"
