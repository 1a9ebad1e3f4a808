"""Stage "validate tokens" (service side): checking incoming JWT access tokens, and `oidc_client_validator`.

`TokenValidator` checks one issuer's tokens: the signature with a key from the issuer's JWKS only
(`_jwks.JwksCache`, SECURITY JWV-03/04), an algorithm from an asymmetric allow-list (`none` and `HS*` are
never accepted, JWV-01; RFC 8725 §3.1-3.2), then `iss`, `aud`, `exp`, `nbf` and `iat` with a small leeway
(JWV-02; RFC 7519 §4.1, RFC 9068 §4), and that the token is an access token at all (JWV-05, below).
`MultiIssuerValidator` routes a token to the validator of its
(unverified) `iss` among the trusted issuers only. Failures are `OAuthError`s with the RFC 6750 §3.1 code:
`invalid_token` (401) or `insufficient_scope` (403), ready for a `WWW-Authenticate` answer. No message
holds the token or a claim value beyond the issuer and key id.

An ID token is signed by the same issuer with the same keys, and its `aud` is a client id: a service whose
audience is a client id would take a client's ID token for an access token. `typ_check` decides how
the two are told apart (RFC 9068 §4, JWV-05):

- `"at+jwt"`: the header's `typ` must be `at+jwt` (or `application/at+jwt`), as RFC 9068 §4 asks. Use it for
  servers that issue RFC 9068 access tokens (oidc-provider's JWT access tokens, Okta's custom servers, …).
- `"auto"` (default): a token typed `at+jwt` is an access token by the server's own word. Any other explicit
  type but `JWT` (`id_token+jwt`, `logout+jwt`, `dpop+jwt`, …) is refused, and so is an untyped or `JWT`
  token that carries a claim only an ID token has (`ID_TOKEN_CLAIMS`). Once the issuer was seen issuing a
  valid `at+jwt` token, the validator requires `at+jwt` from then on, as in `"at+jwt"`.
- `"any"`: no check; for servers whose access tokens carry ID-token claims (some put `nonce` in them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import _http
from ._clients import AuthClient
from ._errors import ConfigError, DiscoveryError, OAuthError, UnsupportedOperationError
from ._jwks import JwksCache
from ._jwks import invalid_token as _invalid
from ._names import TYP_CHECKS, public
from ._oauth import discover, normalize_issuer
from ._tokens import Token

if TYPE_CHECKING:
    from ._config import ClientConfig
    from ._config_views import ClientValidatorConfig

__all__ = [
    "TYP_CHECKS",
    "DEFAULT_ALGORITHMS",
    "ID_TOKEN_CLAIMS",
    "MultiIssuerValidator",
    "OidcClientValidatorAuthClient",
    "TokenValidator",
    "scopes_of",
]

DEFAULT_ALGORITHMS = ("RS256", "PS256", "ES256")
# Claims that only an ID token carries (OIDC Core §2, §3.1.3.6, §3.3.2.11; FAPI 1.0 Advanced §5.1 `s_hash`):
# `nonce` echoes the authorization request to the client, the `*_hash` claims bind the ID token to the access
# token, code or state issued with it. Not listed, because RFC 9068 §2.2.1 or common servers put them in
# access tokens too: `auth_time`, `acr`, `amr` (RFC 9068 §2.2.1), `azp` (Auth0, Keycloak), `sid`.
ID_TOKEN_CLAIMS = frozenset({"nonce", "at_hash", "c_hash", "s_hash"})
_AT_JWT = frozenset({"at+jwt", "application/at+jwt"})  # RFC 9068 §4; media types are case-insensitive
_PLAIN_JWT = frozenset({"jwt", "application/jwt"})  # RFC 7519 §5.1
# Asymmetric JWA algorithms (RFC 7518 §3.1, RFC 8037 §3.1); `none` and the HMAC ones are never allowed.
_ASYMMETRIC = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


def scopes_of(claims: Mapping[str, object]) -> frozenset[str]:
    """The token's scopes: `scope` (space-separated, RFC 8693 §4.2 / RFC 9068 §2.2.3) or `scp` (a list)."""
    value = claims.get("scope", claims.get("scp"))
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()


def _number(claims: Mapping[str, object], name: str, *, required: bool, file: str | None) -> float | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problem = "is missing" if value is None else "is not a number"
        raise _invalid(f"the token's `{name}` claim {problem}", f"bad {name}", file=file)
    return float(value)


@dataclass(frozen=True)
class _IssuerConfig:
    """What `_oauth.discover` needs to read an issuer's metadata."""

    auth_server: str
    issuer: str


@public
class TokenValidator:
    """Validates JWT access tokens of one issuer for one service (any of `audiences`).

    `jwks_uri` overrides discovery (`<auth_server or issuer>/.well-known/openid-configuration`, whose
    `issuer` must match). `leeway` (seconds) applies to `exp`, `nbf` and `iat`; `clock` is epoch seconds
    and `monotonic` drives the key cache (both injectable for tests). `typ_check` (`"auto"`,
    `"at+jwt"` or `"any"`) tells access tokens from ID tokens (module docstring). Construction makes no
    network call.
    """

    def __init__(
        self,
        issuer: str,
        audiences: Iterable[str],
        *,
        jwks_uri: str | None = None,
        auth_server: str | None = None,
        algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
        leeway: float = 30.0,
        typ_check: str = "auto",
        jwks_ttl: float = 600.0,
        refetch_cooldown: float = 30.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        http_policy: _http.RetryPolicy | None = None,
        file: str | None = None,
    ) -> None:
        self.issuer = normalize_issuer(issuer)
        self.audiences = tuple(audiences)
        self.algorithms = tuple(algorithms)
        self._file = file
        if not self.audiences or not all(isinstance(a, str) and a for a in self.audiences):
            raise ConfigError(
                "a token validator needs the audience(s) its service accepts",
                file=file,
                key="audiences",
                hint="Set `audiences` to the `aud` value(s) of this service's access tokens",
            )
        bad = [alg for alg in self.algorithms if alg not in _ASYMMETRIC]
        if bad or not self.algorithms:
            raise ConfigError(
                f"algorithm(s) {bad or '(none)'} cannot verify issuer-signed tokens",
                file=file,
                key="algorithms",
                hint=f"Use asymmetric algorithms only, e.g. {', '.join(DEFAULT_ALGORITHMS)}",
            )
        if leeway < 0 or leeway > 300:
            raise ConfigError("leeway must be between 0 and 300 seconds", file=file, key="leeway")
        self.leeway = float(leeway)
        if typ_check not in TYP_CHECKS:
            raise ConfigError(
                f"typ_check must be one of {', '.join(TYP_CHECKS)}",
                file=file,
                key="typ_check",
                hint="`at+jwt` for RFC 9068 servers, `auto` when unsure",
            )
        self.typ_check = typ_check
        self._issues_at_jwt = typ_check == "at+jwt"  # "auto" learns it from the issuer's tokens
        self._clock = clock
        where = _IssuerConfig(auth_server or issuer, self.issuer)
        uri: str | Callable[[], str] = jwks_uri or (lambda: self._discovered_jwks_uri(where))
        self.jwks = JwksCache(
            uri,
            ttl=jwks_ttl,
            refetch_cooldown=refetch_cooldown,
            clock=monotonic,
            policy=http_policy,
            file=file,
        )

    def _discovered_jwks_uri(self, where: _IssuerConfig) -> str:
        uri = discover(where, file=self._file).get("jwks_uri")
        if not isinstance(uri, str) or not uri:
            raise DiscoveryError(
                f"the metadata of {self.issuer} has no `jwks_uri`",
                file=self._file,
                key="jwks_endpoint",
                hint="Set `jwks_endpoint` in the profile",
            )
        return uri

    def validate(self, token: str, *, required_scopes: Iterable[str] | None = None) -> dict[str, Any]:
        """The verified claims of `token`, or `OAuthError` (`invalid_token` / `insufficient_scope`).

        `required_scopes`: the token must hold at least one of them (any-of).
        """
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _invalid(
                "not a JWT, or a malformed or unsupported header", "malformed token", file=self._file
            ) from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise _invalid(
                f"token algorithm {str(alg)[:16]!r} is not allowed for {self.issuer}"
                f" (allowed: {', '.join(self.algorithms)})",
                "algorithm not allowed",
                file=self._file,
            )
        if "crit" in header:  # RFC 7515 §4.1.11: we understand no extension
            raise _invalid("token header has a `crit` member", "unsupported critical header", file=self._file)
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise _invalid("token `kid` is not a string", "malformed token", file=self._file)
        # `jku`, `x5u`, `jwk` and `x5c` are deliberately never read: keys come from the issuer's JWKS only.
        key = self.jwks.signing_key(kid, alg)
        try:
            claims: dict[str, object] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=list(self.audiences),
                options={
                    "verify_signature": True,
                    "verify_aud": True,
                    "verify_exp": False,  # checked below with the injectable clock
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_iss": False,  # compared below without a trailing slash
                    "require": ["iss", "aud", "exp", "iat"],
                },
            )
        except jwt.InvalidSignatureError:
            raise _invalid("token signature is invalid", "bad signature", file=self._file) from None
        except jwt.MissingRequiredClaimError as exc:
            raise _invalid(
                f"token lacks the `{exc.claim}` claim", f"missing {exc.claim}", file=self._file
            ) from None
        except jwt.InvalidAudienceError:
            raise _invalid(
                f"token audience is not one of {list(self.audiences)}", "wrong audience", file=self._file
            ) from None
        except jwt.PyJWTError as exc:
            raise _invalid(
                f"token rejected ({type(exc).__name__})", "invalid token", file=self._file
            ) from None
        self._check_claims(claims)
        self._check_access_token(header.get("typ"), claims)
        if required_scopes is not None:
            self._check_scopes(claims, frozenset(required_scopes))
        return claims

    def _check_claims(self, claims: Mapping[str, object]) -> None:
        iss = claims.get("iss")
        if not isinstance(iss, str) or normalize_issuer(iss) != self.issuer:
            raise _invalid(f"token issuer is not {self.issuer!r}", "wrong issuer", file=self._file)
        now, leeway, file = self._clock(), self.leeway, self._file
        exp = _number(claims, "exp", required=True, file=file)
        if exp is not None and now >= exp + leeway:  # RFC 7519 §4.1.4: not on or after `exp`
            raise _invalid("token has expired", "token expired", file=file)
        nbf = _number(claims, "nbf", required=False, file=file)
        if nbf is not None and now + leeway < nbf:  # §4.1.5
            raise _invalid("token is not valid yet (`nbf`)", "token not yet valid", file=file)
        iat = _number(claims, "iat", required=True, file=file)
        if iat is not None and iat > now + leeway:  # §4.1.6: issued in the future
            raise _invalid("token was issued in the future (`iat`)", "bad iat", file=file)

    def _check_access_token(self, typ: object, claims: Mapping[str, object]) -> None:
        """JWV-05: an access token, not an ID token (or another JWT) of the same issuer (RFC 9068 §4)."""
        if self.typ_check == "any":
            return
        kind = typ.lower() if isinstance(typ, str) else typ
        if kind in _AT_JWT:
            self._issues_at_jwt = True  # the issuer issues RFC 9068 tokens: require them from now on
            return
        shown = "no `typ`" if typ is None else f"`typ` {str(typ)[:32]!r}"
        if self._issues_at_jwt:
            raise _invalid(
                f"token has {shown}, not `at+jwt` (RFC 9068 §4): not an access token of {self.issuer}",
                "not an access token",
                file=self._file,
            )
        if kind is not None and kind not in _PLAIN_JWT:
            raise _invalid(f"token has {shown}: not an access token", "not an access token", file=self._file)
        id_only = sorted(ID_TOKEN_CLAIMS & claims.keys())
        if id_only:
            raise _invalid(
                f"token carries ID-token claim(s) {', '.join(id_only)}: an ID token is not an access token",
                "not an access token",
                file=self._file,
            )

    def _check_scopes(self, claims: Mapping[str, object], required: frozenset[str]) -> None:
        if required and not (scopes_of(claims) & required):
            raise OAuthError(
                f"token has none of the required scopes {sorted(required)}",
                error="insufficient_scope",
                error_description=f"requires one of: {' '.join(sorted(required))}",
                status_code=403,
                file=self._file,
            )

    def __repr__(self) -> str:
        return f"TokenValidator(issuer={self.issuer!r}, audiences={list(self.audiences)!r})"


@public
class MultiIssuerValidator:
    """Validates tokens of several trusted issuers: picks the validator by the token's unverified `iss`,
    which then verifies everything (an `iss` naming no trusted issuer is rejected before any key fetch)."""

    def __init__(self, validators: Iterable[TokenValidator]) -> None:
        self._by_issuer: dict[str, TokenValidator] = {}
        for validator in validators:
            if validator.issuer in self._by_issuer:
                raise ConfigError(f"issuer {validator.issuer!r} is listed twice", key="issuer")
            self._by_issuer[validator.issuer] = validator
        if not self._by_issuer:
            raise ConfigError("a multi-issuer validator needs at least one issuer", key="issuer")

    @property
    def issuers(self) -> tuple[str, ...]:
        return tuple(self._by_issuer)

    def validator_for(self, token: str) -> TokenValidator:
        import jwt

        try:
            unverified = jwt.decode(token, options={"verify_signature": False})  # routing only
        except jwt.PyJWTError:
            raise _invalid("not a JWT", "malformed token") from None
        iss = unverified.get("iss")
        validator = self._by_issuer.get(normalize_issuer(iss)) if isinstance(iss, str) else None
        if validator is None:
            raise _invalid(
                f"token issuer {str(iss)[:100]!r} is not trusted (trusted: {', '.join(self._by_issuer)})",
                "untrusted issuer",
            )
        return validator

    def validate(self, token: str, *, required_scopes: Iterable[str] | None = None) -> dict[str, Any]:
        """The verified claims, as `TokenValidator.validate` of the token's issuer."""
        return self.validator_for(token).validate(token, required_scopes=required_scopes)

    def __repr__(self) -> str:
        return f"MultiIssuerValidator(issuers={list(self._by_issuer)!r})"


class OidcClientValidatorAuthClient(AuthClient):
    """`oidc_client_validator`: a service's profile that validates incoming tokens; it cannot log in."""

    client_type = "oidc_client_validator"
    _config: ClientValidatorConfig

    def __init__(self, config: ClientConfig, *, file: str | None = None) -> None:
        super().__init__(config, file=file)
        self._validator: TokenValidator | None = None
        self._lock = threading.Lock()

    def _repr_extra(self) -> str:
        return f", client_id={self._config.client_id!r}" if self._config.client_id else ""

    def validator(self) -> TokenValidator:
        """The `TokenValidator` of this profile (built once; its key cache lives as long as the client)."""
        with self._lock:
            if self._validator is None:
                config = self._config
                self._validator = TokenValidator(
                    str(config.issuer or config.auth_server),
                    config.audiences or (),
                    jwks_uri=config.jwks_endpoint,
                    auth_server=str(config.auth_server),
                    file=self._file,
                    typ_check=config.typ_check,
                )
            return self._validator

    def validate_access_token(
        self, token: str, required_scopes: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """The verified claims of an incoming access token (see `TokenValidator.validate`)."""
        return self.validator().validate(token, required_scopes=required_scopes)

    def _cannot(self) -> UnsupportedOperationError:
        return UnsupportedOperationError(
            "a validator profile cannot log in: it only checks tokens that callers send",
            file=self._file,
            key="client_type",
            hint="Use a client profile (e.g. `oidc_client_credentials_secret`) to obtain tokens",
        )

    def login(
        self, *, allow_open_browser: bool = True, allow_tty_prompt: bool = True, **kwargs: Any
    ) -> Token | None:
        raise self._cannot()

    def grant(self) -> Token:
        raise self._cannot()

    def refresh(self, token: Token) -> Token:
        raise self._cannot()
