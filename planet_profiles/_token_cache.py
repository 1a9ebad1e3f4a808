"""Stage "store tokens", fleet-wide: a token cache shared through Redis (or Valkey) by every process and host
that loads the same profile (`pip install 'planet-profiles[redis]'`).

`PL_AUTH_TOKEN_CACHE_URL=redis://[[user]:password@]host:port/db` (`rediss://` for TLS, `unix:///path.sock`),
or `token_cache_url=` of `open_profile` / `from_config` / the facade's factory (an argument wins; `""` turns
the cache off). The password is the URL's, else the first line of `PL_AUTH_TOKEN_CACHE_PASSWORD_FILE`. Each
command waits at most 0.5 s to connect and 0.5 s for an answer (`?socket_timeout=…&socket_connect_timeout=…`
in the URL to change that).

**Keys.** A profile's entry is `planet-profiles:token:v1:<profile name>:<digest>` (its lock: the same plus
`:lock`). `<digest>` is the SHA-256 of what the token is for, the profile's `client_type`, `auth_server`,
`issuer`, `token_endpoint`, `client_id`, `scopes`, `audiences`, `organization` and `project_id`, and of the
cache key's id (below): different clients, scopes, audiences or auth servers, and replicas holding different
keys, never share an entry.

**Lock.** Renewing takes a lease, `SET lock <random> NX PX <lease>`, released by a compare-and-delete Lua
script: a holder that dies stalls the others no longer than the lease (`PL_AUTH_TOKEN_CACHE_LEASE`, seconds,
default 15). The others poll the entry meanwhile and take the new token as soon as it is there. Within a
process the token manager's thread lock still gives a single flight, and the per-request path never reaches
this module while the token in memory is fresh (`TokenManager.token`): no Redis round-trip per request.

**Encryption.** The entry is AES-256-GCM ciphertext (with the entry's key name as associated data) under a key
that every replica holds and nobody else needs: HKDF-SHA256 of `PL_AUTH_TOKEN_CACHE_KEY_FILE`'s content (at
least 32 bytes, e.g. `openssl rand -base64 32`) if set, else of the profile's own decrypted secrets
(`client_secret`, or the private key and its password), salted with the digest above. Whoever can read those
secrets can get tokens anyway, so the cache gives nobody new power; whoever can read Redis without them sees
ciphertext, and cannot plant a token either (GCM authenticates). Not age to the profile's recipients: those
come from the profile's `sops` block, which the sops MAC does not cover (issue 12), and a fleet's readers are
its replicas, not the profile's editors. A public client (no secret) needs the key file, else its tokens stay
local (one warning). `PL_AUTH_TOKEN_CACHE_PLAINTEXT=1` stores the token JSON in clear instead (opt-in). An
entry that does not decrypt is a cache miss, never an error.

**Failure.** The cache is an optimisation, never a new way to fail: Redis down, slow, full, refusing the
password or the TLS handshake → one warning per outage, the local path (the token file and its lock file, or
memory), and a new attempt after 1, 2, 4, 8, then every 10 s; sharing resumes with the first command that
works (logged at INFO).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

from ._clients import AuthClient, OidcAuthClient
from ._errors import ConfigError, TokenFileError
from ._names import CACHE_URL_ENV, REDACTED, env_flag
from ._tokens import Token

if TYPE_CHECKING:
    from redis import Redis

    from ._config_views import PrivateKeyJwtConfig

__all__ = [
    "CACHE_URL_ENV",
    "KEY_FILE_ENV",
    "LEASE_ENV",
    "PASSWORD_FILE_ENV",
    "PLAINTEXT_ENV",
    "SharedTokenCache",
    "shared_cache",
]

log = logging.getLogger("planet_profiles.token_cache")

PASSWORD_FILE_ENV = "PL_AUTH_TOKEN_CACHE_PASSWORD_FILE"  # noqa: S105 - a variable name
KEY_FILE_ENV = "PL_AUTH_TOKEN_CACHE_KEY_FILE"
PLAINTEXT_ENV = "PL_AUTH_TOKEN_CACHE_PLAINTEXT"
LEASE_ENV = "PL_AUTH_TOKEN_CACHE_LEASE"

PREFIX = "planet-profiles:token:v1"
_TIMEOUT = 0.5  # s, to connect and per command
_BACKOFF = (1.0, 2.0, 4.0, 8.0, 10.0)  # s between attempts while Redis is unavailable
_LEASE = 15.0
_POLL = 0.05  # s between looks at the entry while another replica renews
_KEEP_REFRESHABLE = 30 * 86400  # s an entry with a refresh token is kept after its access token expired
_TOKEN_FIELDS = (
    *("client_type", "auth_server", "issuer", "token_endpoint", "client_id"),
    *("scopes", "audiences", "organization", "project_id"),
)
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
_HINTS = {
    "AuthenticationError": f"check the password (in the URL or {PASSWORD_FILE_ENV})",
    "AuthenticationWrongNumberOfArgsError": f"check the user and password (URL or {PASSWORD_FILE_ENV})",
    "SSLError": "does the server speak TLS (rediss://) and is its certificate trusted?",
}
_T = TypeVar("_T")


class _Down(Exception):
    """Redis is unavailable right now (internal: the caller takes the local path)."""


def _redacted(url: str) -> str:
    """The URL without its password, for log lines."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username or ''}:{REDACTED}@"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


class _Server:
    """One Redis client (connection pool) per URL in this process, and whether it is up: after a failure no
    command is sent before the back-off has passed, and only the first failure of an outage is a warning."""

    def __init__(self, url: str, password: str | None) -> None:
        self.label = _redacted(url)
        self._url, self._password = url, password
        self._client: Redis | None = None
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._failures = 0

    def _connect(self) -> Redis:
        with self._lock:
            if self._client is None:
                from redis import Redis
                from redis.backoff import NoBackoff
                from redis.retry import Retry

                self._client = Redis.from_url(
                    self._url,
                    password=self._password,
                    socket_connect_timeout=_TIMEOUT,
                    socket_timeout=_TIMEOUT,
                    retry=Retry(NoBackoff(), 0),  # our back-off, not the client's (that retries for seconds)
                    health_check_interval=0,
                )
            return self._client

    def run(self, command: Callable[[Redis], _T]) -> _T:
        """`command(client)`, or `_Down` when Redis is in back-off or the command fails."""
        if time.monotonic() < self._down_until:
            raise _Down
        from redis.exceptions import RedisError

        try:
            result = command(self._connect())
        except (RedisError, OSError, ValueError) as exc:
            self._failed(exc)
            raise _Down from None
        if self._failures:
            with self._lock:
                if self._failures:
                    log.info("token cache %s is reachable again: tokens are shared again", self.label)
                    self._failures = 0
        return result

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            self._failures += 1
            pause = _BACKOFF[min(self._failures, len(_BACKOFF)) - 1]
            self._down_until = time.monotonic() + pause
            first = self._failures == 1
        cause = exc.__context__ if type(exc).__name__ == "ConnectionError" and exc.__context__ else exc
        hint = _HINTS.get(type(cause).__name__) or _HINTS.get(type(exc).__name__)
        if hint is None and self.label.startswith("rediss:") and "connect" in str(exc).lower():
            hint = _HINTS["SSLError"]  # a plain server does not answer a TLS hello: a connect timeout
        text = f"{type(exc).__name__}: {exc}" + (f"; {hint}" if hint else "")
        if first:
            log.warning(
                "token cache %s is unavailable (%s); tokens are kept locally until it is back",
                self.label,
                text,
            )
        else:
            log.debug("token cache %s still unavailable (%s); next try in %.0f s", self.label, text, pause)


_servers: dict[tuple[str, str | None], _Server] = {}
_servers_lock = threading.Lock()


def _server(url: str, password: str | None) -> _Server:
    with _servers_lock:
        server = _servers.get((url, password))
        if server is None:
            server = _servers[(url, password)] = _Server(url, password)
        return server


class _Sealer:
    """AES-256-GCM under a key derived for one entry, or the token JSON in clear (the plaintext opt-in)."""

    def __init__(self, ikm: bytes | None, salt: bytes) -> None:
        self._key: bytes | None = None
        self.key_id = b"plaintext"
        if ikm is not None:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.kdf.hkdf import HKDF

            derived = HKDF(algorithm=hashes.SHA256(), length=40, salt=salt, info=b"token cache").derive(ikm)
            self._key, self.key_id = derived[:32], derived[32:]

    def seal(self, data: dict[str, object], aad: bytes) -> bytes:
        if self._key is None:
            return json.dumps({"v": 1, "token": data}).encode()
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(12)
        sealed = AESGCM(self._key).encrypt(nonce, json.dumps(data).encode(), aad)
        return json.dumps({"v": 1, "alg": "A256GCM", "n": _b64(nonce), "c": _b64(sealed)}).encode()

    def open(self, blob: bytes, aad: bytes) -> dict[str, object] | None:
        """The token data, or None for anything that is not an entry of this key (a cache miss)."""
        try:
            outer = json.loads(blob)
            if self._key is None:
                data = outer["token"]
            else:
                from cryptography.exceptions import InvalidTag
                from cryptography.hazmat.primitives.ciphers.aead import AESGCM

                if outer.get("alg") != "A256GCM":
                    return None
                try:
                    plain = AESGCM(self._key).decrypt(_unb64(outer["n"]), _unb64(outer["c"]), aad)
                except InvalidTag:
                    return None
                data = json.loads(plain)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        return data if isinstance(data, dict) else None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


class SharedTokenCache:
    """One profile's entry and lock in Redis (see the module docstring). Every method is best effort:
    Redis unavailable → `get` finds nothing, `put`/`delete` do nothing, `renewal` yields without a lease."""

    def __init__(self, server: _Server, sealer: _Sealer, key: str, *, lease: float = _LEASE) -> None:
        self._server, self._sealer = server, sealer
        self.key, self.lock_key = key, key + ":lock"
        self.lease = lease

    def _get(self) -> Token | None:
        blob = self._server.run(lambda r: r.get(self.key))
        if not isinstance(blob, bytes):
            return None
        data = self._sealer.open(blob, self.key.encode())
        if data is None:
            log.info("token cache entry %s does not decrypt with this key: a cache miss", self.key)
            return None
        try:
            return Token(data, file=f"<token cache {self.key}>")
        except TokenFileError:  # decrypted, but not a token
            return None

    def get(self) -> Token | None:
        """The shared token, None when there is none (or it cannot be read)."""
        with contextlib.suppress(_Down):
            return self._get()
        return None

    def put(self, token: Token) -> None:
        """Publish `token`, kept until its expiry (30 days longer when it has a refresh token)."""
        expires = token.expires_at
        keep = (expires - time.time() if expires is not None else 86400.0) + (
            _KEEP_REFRESHABLE if token.refresh_token else 0.0
        )
        if keep <= 0:
            return
        blob = self._sealer.seal(token.data, self.key.encode())
        with contextlib.suppress(_Down):
            self._server.run(lambda r: r.set(self.key, blob, px=max(int(keep * 1000), 1)))

    def delete(self) -> None:
        with contextlib.suppress(_Down):
            self._server.run(lambda r: r.delete(self.key))

    @contextlib.contextmanager
    def renewal(self, usable: Callable[[Token], bool]) -> Iterator[Token | None]:
        """Around a renewal: yields the shared token as soon as it is `usable` (another replica renewed it:
        adopt it), else the shared token (possibly None, possibly expired but with the fleet's latest refresh
        token) with the fleet-wide lease held until the block ends: renew, `put`, leave the block. Without
        Redis it yields None at once and no lease is held; after waiting `2 × lease + 1` s for a live holder
        it yields what it has and the caller renews alone."""
        value = secrets.token_hex(16)
        held = False
        shared: Token | None = None
        deadline = time.monotonic() + 2 * self.lease + 1
        lease_ms = max(int(self.lease * 1000), 1)
        try:
            while True:
                shared = self._get()
                if shared is not None and usable(shared):
                    break
                held = bool(self._server.run(lambda r: r.set(self.lock_key, value, nx=True, px=lease_ms)))
                if held:
                    shared = self._get()  # published between our look and the lease?
                    break
                if time.monotonic() >= deadline:
                    waited = 2 * self.lease + 1
                    log.warning("token cache lock %s held over %.0f s; renewing alone", self.lock_key, waited)
                    break
                time.sleep(_POLL * random.uniform(0.5, 1.5))  # noqa: S311 - jitter, not a secret
        except _Down:
            shared = None
        try:
            yield shared
        finally:
            if held:
                with contextlib.suppress(_Down):
                    self._server.run(lambda r: r.eval(_RELEASE, 1, self.lock_key, value))

    def __repr__(self) -> str:
        return f"SharedTokenCache({self._server.label}, {self.key!r})"


def _read_secret_file(env: str, *, minimum: int = 1) -> bytes | None:
    """The content of the file named by `env` (stripped), None when `env` is unset; a `ConfigError` when it
    cannot be read or is shorter than `minimum` bytes."""
    name = os.environ.get(env, "").strip()
    if not name:
        return None
    try:
        content = Path(name).read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read {name}: {exc.strerror}", file=name, key=env) from None
    if len(content) < minimum:
        raise ConfigError(
            f"holds {len(content)} bytes, fewer than {minimum}",
            file=name,
            key=env,
            hint="Fill it with `openssl rand -base64 32`" if minimum > 1 else None,
        )
    return content


def _profile_secrets(client: OidcAuthClient) -> bytes | None:
    """The profile's own secrets (decrypted, in memory), as key material; None for a public client. A
    private_key_jwt client's key is read as its signer reads it (`_assertion.read_pem`: a key file relative to
    the profile's directory; an unreadable one is the `ConfigError` the client would raise anyway)."""
    config = client.config.to_dict(reveal_secrets=True)
    material = {key: config[key] for key in client.config.secret_keys if config.get(key)}
    if client.client_auth_method == "private_key_jwt":
        from ._assertion import read_pem

        key_name, pem = read_pem(cast("PrivateKeyJwtConfig", client.config), client.file)
        material[key_name] = pem.decode(errors="replace")
    if not any(material.get(key) for key in ("client_secret", "client_privkey", "client_privkey_file")):
        return None
    return json.dumps(material, sort_keys=True).encode()


def _lease() -> float:
    text = os.environ.get(LEASE_ENV, "").strip()
    if not text:
        return _LEASE
    try:
        lease = float(text.removesuffix("s"))
    except ValueError:
        lease = -1.0
    if not 0.1 <= lease <= 3600:
        raise ConfigError(f"`{text}` is not a number of seconds between 0.1 and 3600", key=LEASE_ENV)
    return lease


def shared_cache(client: AuthClient, profile_name: str, url: str) -> SharedTokenCache | None:
    """The shared cache of `client`'s tokens at `url` (`""`: none; the loader resolves the `token_cache_url`
    argument, else `PL_AUTH_TOKEN_CACHE_URL`). Only `oidc_*` clients share tokens. A public client with
    neither a key file nor the plaintext opt-in keeps its tokens local (a warning). A malformed setting is
    a `ConfigError`; Redis is not contacted here."""
    if not url or not isinstance(client, OidcAuthClient):
        return None
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(
            f"`{_redacted(url)}` is not a redis://, rediss:// or unix:// URL",
            key=CACHE_URL_ENV,
            hint="e.g. redis://cache.internal:6379/0",
        )
    try:
        import redis  # noqa: F401
    except ImportError:
        raise ConfigError(
            "the shared token cache needs the Redis client",
            key=CACHE_URL_ENV,
            hint="pip install 'planet-profiles[redis]'",
        ) from None
    password_file = _read_secret_file(PASSWORD_FILE_ENV)
    password = password_file.decode().splitlines()[0] if password_file else None
    config = client.config.to_dict()
    fields = {"profile": profile_name, **{key: config.get(key) for key in _TOKEN_FIELDS}}
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).digest()
    if env_flag(PLAINTEXT_ENV):
        ikm = None
    else:
        ikm = _read_secret_file(KEY_FILE_ENV, minimum=32) or _profile_secrets(client)
        if ikm is None:
            log.warning(
                "profile %s has no secret to derive a token cache key from: its tokens stay local (set %s, "
                "or %s=1 to share them in clear)",
                profile_name,
                KEY_FILE_ENV,
                PLAINTEXT_ENV,
            )
            return None
    sealer = _Sealer(ikm, salt=digest)
    key = f"{PREFIX}:{profile_name}:{hashlib.sha256(digest + sealer.key_id).hexdigest()[:32]}"
    return SharedTokenCache(_server(url, password), sealer, key, lease=_lease())
