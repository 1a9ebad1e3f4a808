"""Stage "stay logged in": one `TokenManager` per profile keeps a valid token at hand.

The token is renewed (refreshed, or re-granted for client credentials) ahead of expiry, once less than its
refresh window is left (`RefreshWindow`; by default `min(60 s, 10 % of its lifetime)`; planet-auth renews at
75 % of the lifetime, i.e. a `25%` window). The window is a profile's `token_refresh_window`, else
`PL_AUTH_TOKEN_REFRESH_WINDOW`, else the default; it is never less than min(1 s, half the lifetime), so even a
token that lives a few seconds is replaced before it expires and never sent after (`still_valid`).

One renewal at a time per process: callers wait on a lock and re-check after taking it, so any number of
threads get one token request (SECURITY TOK-03, TOK-04). Across processes, a lock file beside the token file
serialises renewals; after taking it the token file is read again and renewed only if still needed, so
rotating refresh tokens are never used twice (TOK-05). Across hosts, a shared cache
(`planet_profiles._token_cache`, Redis) extends both: the token is looked up there, and renewed under its
fleet-wide lease, only when the one in memory is due, never per request. A new token is persisted (and
published) before it is handed out (TOK-06). If an early renewal fails for a transient reason while the
token is still valid, the token keeps being served and attempts are throttled (exponential back-off up to a
minute) instead of hammering the server.

A stored token that the current key cannot decrypt (the token file was written for a key since rotated
away: `TokenStore.unreadable`) is a cache miss, never an outage: client credentials get a new token (logged
at INFO), other types raise `LoginRequiredError` naming the profile and the reason; the new token is then
stored for the current key.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ._clients import AuthClient
from ._errors import (
    ConfigError,
    InvalidGrantError,
    LoginRequiredError,
    OAuthError,
    StorageError,
    TransportError,
)
from ._names import Record, login_command
from ._problems import PATTERN_HINTS, REFRESH_WINDOW_PATTERN
from ._schemacheck import ecma_regex
from ._tokens import Token, TokenStore

if TYPE_CHECKING:
    from ._token_cache import SharedTokenCache

__all__ = ["REFRESH_WINDOW_ENV", "RefreshWindow", "TokenManager", "refresh_at", "still_valid"]

log = logging.getLogger("planet_profiles.session")

_MAX_BACKOFF = 60.0
_LOCK_TIMEOUT = 60.0
_FLOOR = 1.0  # seconds: a token is renewed at least this long (or half its life) before it expires

REFRESH_WINDOW_ENV = "PL_AUTH_TOKEN_REFRESH_WINDOW"


class RefreshWindow(Record):
    """Renew a token once less than `min(seconds, fraction × lifetime)` of it is left.

    Written as in a profile's `token_refresh_window`: `"120s"` (120 s, at most half the lifetime) or `"25%"`
    (a quarter of the lifetime: renewal at 75 %, planet-auth's timing). The default is 60 s or 10 %, whichever
    is less: fewer token requests than planet-auth (a one-hour token is renewed after 59 min, not 45), while
    a minute covers clock skew and a slow token endpoint. Whatever the setting, the window is at least
    min(1 s, half the lifetime).
    """

    __slots__ = ()

    seconds: float = 60.0
    fraction: float = 0.1

    @classmethod
    def parse(cls, text: str, *, key: str | None = None, file: str | None = None) -> RefreshWindow:
        """`"120s"` or `"25%"` (the schema's pattern); anything else is a `ConfigError` naming `key`."""
        if not isinstance(text, str) or not ecma_regex(REFRESH_WINDOW_PATTERN).search(text):
            raise ConfigError(
                f"`{key or 'token_refresh_window'}` must be {PATTERN_HINTS[REFRESH_WINDOW_PATTERN]}",
                file=file,
                key=key,
            )
        if text.endswith("%"):
            return cls(seconds=float("inf"), fraction=int(text[:-1]) / 100)
        return cls(seconds=float(text[:-1]), fraction=0.5)

    @classmethod
    def of(cls, configured: str | None, explicit: RefreshWindow | str | None = None) -> RefreshWindow:
        """The window for a profile: `explicit` > its `token_refresh_window` (`configured`) > the
        environment > default."""
        if isinstance(explicit, RefreshWindow):
            return explicit
        if explicit is not None:
            return cls.parse(explicit, key="refresh_window")
        if configured:
            return cls.parse(configured, key="token_refresh_window")
        env = os.environ.get(REFRESH_WINDOW_ENV, "").strip()
        return cls.parse(env, key=REFRESH_WINDOW_ENV) if env else cls()

    def before_expiry(self, lifetime: float) -> float:
        """Seconds before expiry at which a token of `lifetime` seconds is renewed."""
        lifetime = max(lifetime, 0.0)
        return max(min(self.seconds, self.fraction * lifetime), min(_FLOOR, lifetime / 2))


DEFAULT_WINDOW = RefreshWindow()


def _latest(shared: Token | None, local: Token | None) -> Token | None:
    """The later issued of the fleet's token and this host's: a host that renewed while Redis was down holds
    a newer (rotated) refresh token than the one left in Redis, which the server has consumed."""
    if shared is None or local is None:
        return shared or local
    return shared if (shared.issued_at or 0.0) > (local.issued_at or 0.0) else local


def refresh_at(token: Token, window: RefreshWindow = DEFAULT_WINDOW) -> float:
    """When `token` should be replaced: `inf` for tokens without an expiry."""
    expires = token.expires_at
    if expires is None:
        return float("inf")
    issued = token.issued_at if token.issued_at is not None else expires
    return expires - window.before_expiry(expires - issued)


def still_valid(token: Token, now: float) -> bool:
    """The token may still be sent: before its expiry, less a margin of 2 % of its lifetime (≤ 5 s)."""
    expires = token.expires_at
    if expires is None:
        return True
    issued = token.issued_at if token.issued_at is not None else expires
    return now < expires - min(5.0, max(expires - issued, 0.0) * 0.02)


@contextlib.contextmanager
def file_lock(token_file: Path | None, *, timeout: float = _LOCK_TIMEOUT) -> Iterator[None]:
    """An exclusive lock on `<token file>.lock` (0600, in the token file's 0700 directory), held while one
    process renews a token: `filelock` (`flock` on POSIX, `msvcrt.locking` on Windows), imported here, only
    when a renewal needs it. Waiting longer than `timeout` is a `StorageError`."""
    if token_file is None:
        yield
        return
    from filelock import FileLock, Timeout

    from ._atomic import ensure_private_dir

    lock_path = token_file.with_name(token_file.name + ".lock")
    ensure_private_dir(lock_path.parent)
    lock = FileLock(lock_path, timeout=timeout, mode=0o600)
    try:
        lock.acquire(poll_interval=0.02)
    except Timeout:
        raise StorageError(
            f"another process has held the token lock for over {timeout:.0f} s",
            file=str(lock_path),
            hint="Stop the stuck process, or delete the lock file if no process uses the profile",
        ) from None
    try:
        yield
    finally:
        lock.release()


class TokenManager:
    """Keeps the current token of one profile fresh, for any number of threads."""

    def __init__(
        self,
        client: AuthClient,
        store: TokenStore,
        *,
        clock: Callable[[], float] = time.time,
        refresh_window: RefreshWindow | str | None = None,
        shared: SharedTokenCache | None = None,
        profile_name: str | None = None,
    ) -> None:
        self.refresh_window = RefreshWindow.of(client.token_refresh_window(), refresh_window)
        self.client, self.store = client, store
        self.shared = shared
        self.profile_name = profile_name
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Token | None = None
        self._loaded = False
        self._failures = 0
        self._next_attempt = 0.0
        self._refused_refresh: str | None = None  # a refresh token the server refused (invalid_grant)

    def cached(self) -> Token | None:
        """The token in memory (loading the store once, else the shared cache's), without a call to the
        auth server."""
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self._token = self.store.load()
                    if self._token is None and self.shared is not None:
                        self._token = self.shared.get()
                    self._loaded = True
        return self._token

    def is_fresh(self, token: Token | None) -> bool:
        return token is not None and self._clock() < refresh_at(token, self.refresh_window)

    def can_renew_silently(self) -> bool:
        """True when a valid token exists or can be had without a user (no network call is made)."""
        token = self.cached()
        refreshable = token is not None and token.refresh_token not in (None, self._refused_refresh)
        return self.is_fresh(token) or self.client.unattended or refreshable

    def token(self) -> Token:
        """A token that is not due for renewal; renews it (once, under the locks) if needed."""
        token = self.cached()
        if self.is_fresh(token):
            assert token is not None
            return token
        with self._lock:
            token = self._token
            if self.is_fresh(token):  # another thread renewed it while we waited (TOK-03)
                assert token is not None
                return token
            now = self._clock()
            usable = token is not None and still_valid(token, now)
            if usable and now < self._next_attempt:  # throttled after a failed early renewal
                assert token is not None
                return token
            return self._renew_locked(token, keep_if_valid=usable)

    def _renew_locked(self, token: Token | None, *, keep_if_valid: bool, stale: str | None = None) -> Token:
        """Renew under the process-wide file lock; the caller holds the thread lock."""

        def usable(candidate: Token | None) -> bool:
            return candidate is not None and self.is_fresh(candidate) and candidate.access_token != stale

        with file_lock(self.store.path), self._fleet_lease(usable) as shared:
            if shared is not None and usable(shared):  # another replica renewed it
                self.store.save(shared)  # the local path keeps the fleet's latest refresh token
                self._token = shared
                return shared
            if self.store.path is not None:  # another process may have renewed it meanwhile (TOK-05)
                on_disk = self.store.load()
                if usable(on_disk):
                    assert on_disk is not None
                    self._token = on_disk
                    return on_disk
                token = on_disk or token
            token = _latest(shared, token)  # the newest refresh token: the fleet's, or this host's own
            try:
                new = self._renew(token)
            except (TransportError, OAuthError) as exc:
                status = 0 if isinstance(exc, TransportError) else exc.status_code or 0
                transient = isinstance(exc, TransportError) or status == 429 or status >= 500  # RFC 6585 §4
                if (
                    keep_if_valid
                    and token is not None
                    and transient
                    and not isinstance(exc, InvalidGrantError)
                ):
                    self._failures += 1
                    self._next_attempt = self._clock() + min(_MAX_BACKOFF, 2.0**self._failures)
                    log.warning(
                        "early token renewal failed (%s); using the current token until it expires", exc
                    )
                    return token
                raise
            self.store.save(new)  # persist before use (TOK-06)
            if self.shared is not None:
                self.shared.put(new)
            self._token = new
            self._failures = 0
            self._next_attempt = 0.0
            return new

    def _fleet_lease(
        self, usable: Callable[[Token | None], bool]
    ) -> contextlib.AbstractContextManager[Token | None]:
        """The shared cache's lease around a renewal (`SharedTokenCache.renewal`), or nothing without one."""
        if self.shared is None:
            return contextlib.nullcontext()
        return self.shared.renewal(usable)

    def renew_if_current(self, access_token: str) -> Token:
        """The server refused `access_token` (HTTP 401): renew unless another caller already did."""
        with self._lock:
            current = self._token
            if current is None or current.access_token == access_token:
                return self._renew_locked(current, keep_if_valid=False, stale=access_token)
            return current

    def set(self, token: Token) -> None:
        """Install a token obtained elsewhere (login, `initial_token_data`) and persist it."""
        with self._lock:
            self.store.save(token)
            if self.shared is not None:
                self.shared.put(token)
            self._token = token
            self._loaded = True

    def clear(self) -> None:
        with self._lock:
            self.store.delete()
            if self.shared is not None:
                self.shared.delete()
            self._token = None
            self._loaded = True

    def _renew(self, token: Token | None) -> Token:
        if token is None and self.store.unreadable:
            self._unreadable_token(self.store.unreadable)
        refresh = token.refresh_token if token is not None else None
        if refresh and refresh != self._refused_refresh:  # a refused refresh token is never sent again
            assert token is not None
            try:
                log.debug("refreshing the token of %r", self.client)
                return self.client.refresh(token)
            except InvalidGrantError:
                self._refused_refresh = refresh
        if refresh and not self.client.unattended:
            raise LoginRequiredError(
                "the refresh token was refused (expired or revoked)",
                file=self.client.file,
                hint=f"Log in again: `{login_command(self.client.file)}`",
            )
        log.debug("requesting a new token for %r", self.client)
        return self.client.grant()

    def _unreadable_token(self, why: str) -> None:
        """The stored token cannot be decrypted with the current key: say so at INFO and go on to a new
        grant (client credentials), or ask for a login (`LoginRequiredError`)."""
        name = self.profile_name or "?"
        where = f"{self.store.path}: {why}" if self.store.path else why
        if self.client.unattended:
            log.info(
                "profile %s: the saved token cannot be decrypted with the current key (%s); requesting a "
                "new token, saved for the current key",
                name,
                where,
            )
            return
        raise LoginRequiredError(
            f"profile `{name}`: the saved token cannot be decrypted with the current key ({where}); "
            "keys were rotated since the last login",
            file=self.client.file,
            hint=f"Log in again: `planet-profiles login {name}`; the new token is saved for your current key",
        )

    def __repr__(self) -> str:
        return f"TokenManager({self.client!r}, {self.store!r})"
