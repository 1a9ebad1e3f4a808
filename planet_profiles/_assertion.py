"""Stage "talk to the auth server": private_key_jwt client assertions (RFC 7523 §2.2, §3).

`AssertionSigner.from_config` loads the profile's private key once and signs a new, short-lived assertion
for every token request (SECURITY JWT-01..03). `ClientAuth` (in `_oauth`) calls
`signer.assertion(signer.audience or endpoint_url)`.

Where the key comes from:

- `client_privkey`: the PEM text itself (a secret, encrypted in `auth_client.sops.json`); a value pasted
  with literal `\\n` sequences instead of line breaks is accepted too.
- `client_privkey_file`: a PEM file. `~` is expanded; a relative path is relative to the directory of the
  profile file, or to the working directory for profiles that have no file (in-memory configs).
- `client_privkey_password`: the password of an encrypted key (PKCS#8 or traditional OpenSSL PEM).

Algorithm: `jwt_signing_alg`, else inferred from the key (RSA → RS256, EC P-256 → ES256). Only RS256, PS256
and ES256 are allowed; RSA keys must have at least 2048 bits (RFC 7518 §3.3).

The `kid` header: servers match it exactly against the `kid` of the JWK registered for the client; a `kid`
the server does not know makes verification fail (oidc-provider selects keys by `kid` when the header has
one). The key file does not say which `kid` was registered, so none is sent unless one is configured
(`jwt_assertion_kid`, or `kid=` in the constructor). Without it servers try every registered key of the
algorithm's type. `public_jwk()` gives the JWK to register, with the RFC 7638 thumbprint as its `kid`.

Errors are `ConfigError`s that name the profile file and the config key, never key material.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from ._config import secret_value
from ._documents import exposed
from ._errors import ConfigError, Problem
from ._locations import profile_relative_path
from ._oauth import b64url_encode

if TYPE_CHECKING:
    from ._config_views import PrivateKeyJwtConfig

__all__ = ["ALLOWED_ALGS", "AssertionSigner"]

log = logging.getLogger("planet_profiles.assertion")

ALLOWED_ALGS = ("RS256", "PS256", "ES256")
"""Assertion algorithms planet-profiles signs with (SECURITY JWT-02); never `none` or HS*."""

DEFAULT_LIFETIME = 120
_MIN_LIFETIME, _MAX_LIFETIME = 60, 300  # SECURITY JWT-02: exp at most 5 minutes after iat
_MIN_RSA_BITS = 2048
_EXTRA_HINT = "Install the extra: `pip install 'planet-profiles[jwt]'`"


def _int_b64url(value: int, length: int | None = None) -> str:
    size = length if length is not None else max(1, (value.bit_length() + 7) // 8)
    return b64url_encode(value.to_bytes(size, "big"))


def _fail(file: str | None, key: str, message: str, hint: str) -> NoReturn:
    where = file or "<config>"
    raise ConfigError(
        message, file=where, key=key, hint=hint, problems=[Problem(where, f"/{key}", f"{message}. {hint}")]
    )


class AssertionSigner:
    """Signs private_key_jwt client assertions with one private key (`repr`: algorithm and fingerprint).

    Build it with `from_config`; the constructor takes an already loaded `cryptography` private key.
    `assertion(aud)` returns a compact JWS with `iss` = `sub` = `client_id`, `aud`, `iat`, `exp`
    (`lifetime` seconds later, 60..300), a fresh `jti`, and `nbf` = `iat` when `not_before` is set.
    """

    def __init__(
        self,
        private_key: Any,
        *,
        client_id: str,
        alg: str | None = None,
        audience: str | None = None,
        kid: str | None = None,
        lifetime: int = DEFAULT_LIFETIME,
        not_before: bool = False,
        clock: Callable[[], float] = time.time,
        file: str | None = None,
        key_name: str = "client_privkey",
    ) -> None:
        if not _MIN_LIFETIME <= lifetime <= _MAX_LIFETIME:
            raise ValueError(f"lifetime must be {_MIN_LIFETIME}..{_MAX_LIFETIME} seconds, not {lifetime}")
        self._key = private_key
        self.client_id = client_id
        self.audience = audience
        self.kid = kid
        self._lifetime = lifetime
        self._not_before = not_before
        self._clock = clock
        self.alg = _check_alg(private_key, alg, file=file, key_name=key_name)
        self._public_jwk = _public_jwk(private_key)

    @classmethod
    def from_config(cls, config: PrivateKeyJwtConfig, *, file: str | None = None) -> AssertionSigner:
        """The signer of a `*_pubkey` profile: loads and checks its key (`ConfigError` on any problem)."""
        key_name, pem = read_pem(config, file)
        password = secret_value(config.client_privkey_password)
        key = _load_key(pem, password, file=file, key_name=key_name)
        return cls(
            key,
            client_id=str(config.client_id),
            alg=config.jwt_signing_alg,
            audience=config.jwt_assertion_audience,
            kid=config.jwt_assertion_kid,
            file=file,
            key_name=key_name,
        )

    @property
    def thumbprint(self) -> str:
        """The RFC 7638 JWK thumbprint (SHA-256) of the public key."""
        members = {k: self._public_jwk[k] for k in sorted(self._public_jwk)}
        canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
        return b64url_encode(hashlib.sha256(canonical).digest())

    def public_jwk(self) -> dict[str, str]:
        """The public JWK to register at the server; `kid`: the configured one, else the thumbprint."""
        return {**self._public_jwk, "kid": self.kid or self.thumbprint, "alg": self.alg, "use": "sig"}

    def assertion(self, audience: str) -> str:
        """A new signed client assertion for `audience` (RFC 7523 §3; a fresh `jti` every call)."""
        jwt = _import_jwt()
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": audience,
            "iat": now,
            "exp": now + self._lifetime,
            "jti": secrets.token_urlsafe(24),
        }
        if self._not_before:
            claims["nbf"] = now
        headers = {"kid": self.kid} if self.kid else None
        token: str = jwt.encode(claims, self._key, algorithm=self.alg, headers=headers)
        return token

    def __repr__(self) -> str:
        return f"AssertionSigner(alg={self.alg!r}, key=jwk-sha256:{self.thumbprint[:8]})"


def read_pem(config: PrivateKeyJwtConfig, file: str | None) -> tuple[str, bytes]:
    """(config key the key came from, PEM bytes): `client_privkey`, else `client_privkey_file` (relative to
    the profile's directory); a `ConfigError` when neither gives a readable key."""
    literal = secret_value(config.client_privkey)
    if literal is not None:
        if "-----BEGIN" in literal and "\n" not in literal.strip() and "\\n" in literal:
            literal = literal.replace("\\n", "\n")  # pasted with escaped line breaks
        return "client_privkey", literal.encode()
    raw = config.client_privkey_file
    if not raw:
        _fail(
            file,
            "client_privkey",
            "a private_key_jwt profile needs a private key",
            "Set `client_privkey` (PEM text) or `client_privkey_file` (path of a PEM file)",
        )
    path = profile_relative_path(str(raw), file)
    try:
        data = path.read_bytes()
        mode = path.stat().st_mode
    except FileNotFoundError:
        _fail(
            file,
            "client_privkey_file",
            f"private key file {path} does not exist",
            "Fix the path (relative paths are relative to the profile's directory)",
        )
    except OSError as exc:
        _fail(
            file,
            "client_privkey_file",
            f"cannot read private key file {path}: {exc.strerror or type(exc).__name__}",
            "Make it a readable file (e.g. `chmod 600` it, owned by you)",
        )
    if exposed(mode):
        log.warning("private key file %s is readable by others (mode %04o): chmod 600 it", path, mode & 0o777)
    return "client_privkey_file", data


def _load_key(pem: bytes, password: str | None, *, file: str | None, key_name: str) -> Any:
    """Parse a PEM private key; every failure is a `ConfigError` that holds no key material."""
    try:
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError:  # pragma: no cover - the jwt extra is missing
        _fail(file, key_name, "private_key_jwt needs the `cryptography` package", _EXTRA_HINT)
    what = "the value" if key_name == "client_privkey" else "the file"
    if b"-----BEGIN" not in pem:
        _fail(
            file, key_name, f"{what} is not a PEM private key", "Use a PEM `-----BEGIN PRIVATE KEY-----` key"
        )
    if b"PUBLIC KEY-----" in pem and b"PRIVATE KEY-----" not in pem:
        _fail(file, key_name, f"{what} holds a public key", "Use the client's private key")
    try:
        key = load_pem_private_key(pem, password=password.encode() if password is not None else None)
    except TypeError:  # encrypted without a password, or a password for a plain key
        if password is None:
            _fail(
                file,
                "client_privkey_password",
                "the private key is encrypted but no password is set",
                "Set `client_privkey_password`",
            )
        _fail(
            file,
            "client_privkey_password",
            "a password is set but the private key is not encrypted",
            "Remove `client_privkey_password`, or use the encrypted key",
        )
    except ValueError:
        if password is not None and b"ENCRYPTED" in pem:
            _fail(
                file,
                "client_privkey_password",
                "cannot decrypt the private key: wrong password",
                f"Check `client_privkey_password` for the key in `{key_name}`",
            )
        _fail(
            file,
            key_name,
            f"{what} is not a valid PEM private key (malformed or an unsupported format)",
            "Use an RSA (2048 bits or more) or EC P-256 key in PEM (PKCS#8 or traditional) form",
        )
    except UnsupportedAlgorithm:
        _fail(
            file,
            key_name,
            "the private key's type or encryption is not supported",
            "Use an RSA (2048 bits or more) or EC P-256 key in PEM form",
        )
    return key


def _key_kind(key: object) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPrivateKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "EC P-256" if isinstance(key.curve, ec.SECP256R1) else f"EC {key.curve.name}"
    return type(key).__name__.removeprefix("_").replace("PrivateKey", "")


def _check_alg(key: Any, alg: str | None, *, file: str | None, key_name: str) -> str:
    """The assertion algorithm for `key`: `alg` if it is allowed and fits the key, else inferred."""
    kind = _key_kind(key)
    if kind == "RSA" and key.key_size < _MIN_RSA_BITS:
        _fail(
            file,
            key_name,
            f"the RSA key has {key.key_size} bits; at least {_MIN_RSA_BITS} are required (RFC 7518 §3.3)",
            "Generate a 2048-bit (or larger) RSA key, or an EC P-256 key",
        )
    fits = {"RSA": ("RS256", "PS256"), "EC P-256": ("ES256",)}.get(kind, ())
    if not fits:
        _fail(
            file,
            key_name,
            f"unsupported key type {kind} for private_key_jwt",
            "Use an RSA (RS256/PS256) or EC P-256 (ES256) key",
        )
    if alg is None:
        return fits[0]
    if alg not in ALLOWED_ALGS:
        _fail(
            file,
            "jwt_signing_alg",
            f"algorithm {alg!r} is not allowed for client assertions",
            f"Use one of {', '.join(ALLOWED_ALGS)}",
        )
    if alg not in fits:
        _fail(
            file,
            "jwt_signing_alg",
            f"`jwt_signing_alg` {alg} does not fit the {kind} key in `{key_name}`",
            f"Use {' or '.join(fits)} for this key, or a key that fits {alg}",
        )
    return alg


def _public_jwk(key: Any) -> dict[str, str]:
    """The RFC 7517 public members of an RSA or EC P-256 key (those the RFC 7638 thumbprint covers)."""
    public = key.public_key().public_numbers()
    if _key_kind(key) == "RSA":
        return {"e": _int_b64url(public.e), "kty": "RSA", "n": _int_b64url(public.n)}
    return {"crv": "P-256", "kty": "EC", "x": _int_b64url(public.x, 32), "y": _int_b64url(public.y, 32)}


def _import_jwt() -> Any:
    try:
        import jwt
    except ImportError as exc:  # pragma: no cover - the jwt extra is missing
        raise ImportError(f"private_key_jwt needs PyJWT. {_EXTRA_HINT}") from exc
    return jwt
