"""Stage "validate tokens": the issuer's signing keys, fetched from its `jwks_uri` and cached.

Keys come only from the JWKS URI configured or discovered for the issuer (SECURITY JWV-03); nothing in a
token header (`jku`, `x5u`, `jwk`, `x5c`) is ever used to find a key. The set is cached for `ttl` seconds;
a token whose `kid` is not in the set triggers at most one refetch per `refetch_cooldown` (so forged `kid`s
cannot make us hammer the issuer), and when a refetch fails the last good set is kept (JWV-04). Symmetric
(`oct`) keys and keys marked `"use": "enc"` are dropped when the set is read (RFC 7517 §4.2).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from . import _http
from ._errors import DiscoveryError, OAuthError, ProfileError

__all__ = ["JwksCache", "invalid_token", "key_fits_alg"]

log = logging.getLogger("planet_profiles.validator")

# JWA (RFC 7518 §3.1) algorithm family -> the JWK key type it needs (and the curve, for ECDSA §3.4).
_FAMILY_KTY = {"RS": "RSA", "PS": "RSA", "ES": "EC"}
_ES_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}


def invalid_token(message: str, description: str, *, file: str | None = None) -> OAuthError:
    """A token the service must refuse: RFC 6750 §3.1 `invalid_token`, HTTP 401."""
    return OAuthError(
        message, error="invalid_token", error_description=description, status_code=401, file=file
    )


def key_fits_alg(jwk: Mapping[str, object], alg: str) -> bool:
    """True when `jwk` can verify `alg` signatures: right `kty`/`crv`, and its own `alg` (if any) is `alg`."""
    if jwk.get("alg") not in (None, alg):
        return False
    if alg == "EdDSA":
        return jwk.get("kty") == "OKP"
    if jwk.get("kty") != _FAMILY_KTY.get(alg[:2]):
        return False
    return alg not in _ES_CURVES or jwk.get("crv") == _ES_CURVES[alg]


def _usable(jwk: object) -> TypeGuard[dict[str, object]]:
    return (
        isinstance(jwk, dict)
        and isinstance(jwk.get("kty"), str)
        and jwk["kty"] != "oct"  # a shared secret never belongs in a public key set
        and jwk.get("use", "sig") == "sig"
    )


class JwksCache:
    """The signing keys of one issuer. Thread-safe; one fetch at a time.

    `uri` is the JWKS URL or a callable returning it (resolved by discovery on first use). `fetches`
    counts fetch attempts (instrumentation for services and tests). `clock` is monotonic seconds.
    """

    def __init__(
        self,
        uri: str | Callable[[], str],
        *,
        ttl: float = 600.0,
        refetch_cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        policy: _http.RetryPolicy | None = None,
        file: str | None = None,
    ) -> None:
        self._uri = uri
        self._ttl = ttl
        self._cooldown = refetch_cooldown
        self._clock = clock
        self._policy = policy
        self._file = file
        self._lock = threading.Lock()
        self._keys: list[dict[str, object]] | None = None
        self._fetched_at = float("-inf")
        self._attempted_at = float("-inf")
        self._failure: ProfileError | None = None
        self._built: dict[tuple[int, str], Any] = {}
        self.fetches = 0

    @property
    def uri(self) -> str:
        if callable(self._uri):
            self._uri = self._uri()
        return self._uri

    def signing_key(self, kid: str | None, alg: str) -> Any:
        """The public key (a `cryptography` object) to verify an `alg` signature by key `kid`.

        Without `kid`, the set must hold exactly one key fitting `alg`. Raises `OAuthError(invalid_token)`
        when no key fits, `DiscoveryError` / `TransportError` when the set could never be fetched.
        """
        with self._lock:
            now = self._clock()
            if self._keys is None or now - self._fetched_at >= self._ttl:
                self._refresh(now)
            index = self._select(kid, alg)
            if index is None and now - self._attempted_at >= self._cooldown:
                log.debug("no key kid=%r for %s in %s: refetching the key set", kid, alg, self.uri)
                self._refresh(now)
                index = self._select(kid, alg)
            if index is None:
                which = f"kid {kid!r}" if kid is not None else "no `kid` and not exactly one key"
                raise invalid_token(
                    f"token signed with {which} for {alg}: no such signing key at {self.uri}",
                    "unknown signing key",
                    file=self._file,
                )
            built = self._built.get((index, alg))
            if built is None:
                built = self._built[(index, alg)] = self._build(index, alg)
            return built

    def _select(self, kid: str | None, alg: str) -> int | None:
        keys = self._keys or []
        fits = [i for i, jwk in enumerate(keys) if key_fits_alg(jwk, alg)]
        if kid is not None:
            fits = [i for i in fits if keys[i].get("kid") == kid]
        return fits[0] if (kid is not None and fits) or len(fits) == 1 else None

    def _build(self, index: int, alg: str) -> Any:
        import jwt

        assert self._keys is not None
        try:
            return jwt.PyJWK(self._keys[index], algorithm=alg).key
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            raise invalid_token(
                f"the signing key for {alg} at {self.uri} is malformed",
                "unusable signing key",
                file=self._file,
            ) from None

    def _refresh(self, now: float) -> None:
        """Fetch the set. On failure keep the last good one (retrying after the cool-down), else raise."""
        if self._keys is None and self._failure is not None and now - self._attempted_at < self._cooldown:
            raise self._failure  # fail fast while the issuer is down and nothing was ever fetched
        self._attempted_at = now
        self.fetches += 1
        try:
            keys = self._fetch()
        except ProfileError as exc:
            self._failure = exc
            if self._keys is None:
                raise
            log.warning("keeping the cached signing keys of %s: %s", self.uri, exc.message)
            self._fetched_at = now - self._ttl + self._cooldown  # try again after the cool-down
            return
        self._keys, self._fetched_at, self._failure = keys, now, None
        self._built.clear()

    def _fetch(self) -> list[dict[str, object]]:
        uri = self.uri
        resp = _http.request("GET", uri, headers={"Accept": "application/json"}, policy=self._policy)
        host = urlsplit(uri).netloc or uri
        problem = None
        listed: object = None
        if resp.status != 200:
            problem = f"answered HTTP {resp.status}"
        else:
            try:
                body = resp.json()
            except (ValueError, UnicodeDecodeError):
                body = None
            listed = body.get("keys") if isinstance(body, dict) else None
            if not isinstance(listed, list):
                problem = 'did not return a JSON object with a "keys" list (RFC 7517 §5)'
        if not isinstance(listed, list):  # (`problem` says why)
            raise DiscoveryError(
                f"the JWKS endpoint {uri} {problem}",
                file=self._file,
                key="jwks_endpoint",
                hint=f"Check that {host} serves the issuer's keys, or set `jwks_endpoint` in the profile",
            )
        keys = [dict(jwk) for jwk in listed if _usable(jwk)]
        log.debug("fetched %d signing key(s) from %s", len(keys), uri)
        return keys

    def __repr__(self) -> str:
        uri = self._uri if isinstance(self._uri, str) else "<discovered>"
        return f"JwksCache({uri!r}, keys={len(self._keys or [])}, fetches={self.fetches})"
