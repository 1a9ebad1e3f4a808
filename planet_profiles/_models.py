"""The auth-client config models: one pydantic model per `client_type`, the one source of the JSON Schema.

Key names and `client_type` strings are planet-auth's, so its `auth_client.json` files parse unchanged.
planet-profiles is stricter: unknown keys are errors, types are not coerced (`"scopes": "openid"` is an
error, not a one-element list), optional keys are left out rather than set to `null`, and URLs must be
https (plain http only for loopback hosts). Secret keys (`SECRET_KEYS`) are `pydantic.SecretStr`, so
`repr`/`str` of a model never show them.

Keys planet-profiles adds (planet-auth ignores them):

- `$schema`: optional, any type; lets an editor find `schema/<client_type>.schema.json`.
- `allowed_api_hosts` (types that send credentials): the only hosts the `Authorization` header is sent to.
- `allowed_issuer_hosts` (OIDC types): pins the auth server; every URL key in `PINNED_URL_KEYS` must point at
  one of these hosts (SECURITY DISC-02).
- `token_refresh_window` (types with tokens): when to renew a token before it expires
  (`planet_profiles._token_manager.RefreshWindow`).
- `client_auth_method` (`_secret` types): `client_secret_basic` or `client_secret_post`; unset, as planet-auth
  sends it, negotiated once on `invalid_client` (`planet_profiles._clients.OidcAuthClient`).
- `typ_check` (`oidc_client_validator`): how an access token is told from an ID token
  (`planet_profiles._token_validation`, SECURITY JWV-05); default `auto`.
- `jwt_assertion_audience`, `jwt_signing_alg`, `jwt_assertion_kid` (`_pubkey` types): the private_key_jwt
  assertion's `aud` (default: the token endpoint), algorithm (default: from the key, RS256 for RSA, ES256
  for P-256) and `kid` header (default: none; it must equal the `kid` registered at the server).

`parse_config` turns a mapping into the right model or raises `ConfigError` listing every problem. Loading
profiles does not use it: `planet_profiles._config.parse_config` checks documents against the schema files
generated from these models, without importing pydantic, with the same problems (a test cross-checks both).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from . import _problems as v
from ._errors import ConfigError, Problem
from ._names import REDACTED, SECRET_KEYS, TypCheck
from ._problems import KeyRule

__all__ = [
    "CLIENT_TYPES",
    "CONFIG_MODELS",
    "PLANET_LEGACY_AUTH_ENDPOINT",
    "REDACTED",
    "SECRET_KEYS",
    "AuthCodeConfig",
    "AuthCodeFlowConfig",
    "AuthCodePubkeyConfig",
    "AuthCodeSecretConfig",
    "ClientConfig",
    "ClientConfigBase",
    "ClientCredentialsFlowConfig",
    "ClientCredentialsPubkeyConfig",
    "ClientCredentialsSecretConfig",
    "ClientSecretAuth",
    "ClientValidatorConfig",
    "DeviceCodeConfig",
    "DeviceCodeFlowConfig",
    "DeviceCodePubkeyConfig",
    "DeviceCodeSecretConfig",
    "NoneConfig",
    "OidcBaseConfig",
    "OidcClientConfig",
    "PlanetLegacyConfig",
    "PrivateKeyJwtAuth",
    "ResourceOwnerConfig",
    "ResourceOwnerFlowConfig",
    "ResourceOwnerPubkeyConfig",
    "ResourceOwnerSecretConfig",
    "StaticApiKeyConfig",
    "parse_config",
]

PLANET_LEGACY_AUTH_ENDPOINT = "https://api.planet.com/v0/auth/login"
_SKIP_CROSS_CHECKS = "planet_profiles.skip_cross_checks"

HttpsUrl = Annotated[str, Field(pattern=v.HTTPS_URL_PATTERN)]
Secret = Annotated[SecretStr, Field(min_length=1)]
NonEmpty = Annotated[str, Field(min_length=1)]


def _mentions(annotation: Any, cls: type) -> bool:
    return annotation is cls or any(_mentions(a, cls) for a in get_args(annotation))


def _url(description: str) -> Any:
    return Field(default=None, pattern=v.HTTPS_URL_PATTERN, description=description)


class ClientConfigBase(BaseModel):
    """Keys and behaviour shared by every client type. Use `parse_config` to build one from a mapping."""

    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, hide_input_in_errors=True, defer_build=True
    )

    CLIENT_TYPE: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    secret_keys: ClassVar[tuple[str, ...]] = ()
    key_rules: ClassVar[tuple[KeyRule, ...]] = ()
    own_key_rules: ClassVar[tuple[KeyRule, ...]] = ()

    schema_ref: NonEmpty | None = Field(
        default=None,
        alias="$schema",
        description="Optional: the JSON Schema of this file, for editors, e.g. "
        "`https://planet-profiles.dev/schema/auth_client.schema.json` or a relative path.",
    )
    client_type: str

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        literal = cls.model_fields["client_type"].annotation
        if get_origin(literal) is Literal:
            cls.CLIENT_TYPE = get_args(literal)[0]
        cls.secret_keys = tuple(
            name for name, field in cls.model_fields.items() if _mentions(field.annotation, SecretStr)
        )
        if not set(cls.secret_keys) <= set(SECRET_KEYS):
            raise TypeError(f"{cls.__name__}: secret keys {cls.secret_keys} must be in SECRET_KEYS")
        cls.key_rules = tuple(
            dict.fromkeys(r for k in reversed(cls.__mro__) for r in vars(k).get("own_key_rules", ()))
        )

    @field_validator("*", mode="after")
    @classmethod
    def _no_null(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("null_value", "leave the key out instead of setting it to null")
        return value

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> ClientConfigBase:
        if not (info.context or {}).get(_SKIP_CROSS_CHECKS):
            problems = _cross_field_problems(type(self), self.to_dict())
            if problems:
                raise PydanticCustomError("cross_field", "{message}", {"message": problems[0][1]})
        return self

    def __repr_args__(self) -> Any:
        return [(k, val) for k, val in super().__repr_args__() if val is not None]

    def to_dict(self, *, reveal_secrets: bool = False, exclude_unset: bool = False) -> dict[str, Any]:
        """The planet-auth-compatible JSON dict; secrets are `REDACTED` unless `reveal_secrets`."""
        data = self.model_dump(by_alias=True, exclude_none=True, exclude_unset=exclude_unset)
        data["client_type"] = self.client_type
        for key in self.secret_keys:
            if isinstance(data.get(key), SecretStr):
                data[key] = data[key].get_secret_value() if reveal_secrets else REDACTED
        return data


class OidcBaseConfig(ClientConfigBase):
    """Keys of every OAuth 2.0 / OIDC client type; endpoints come from discovery unless overridden."""

    auth_server: HttpsUrl = Field(
        description="Base URL of the OAuth2/OIDC authorization server; discovery reads "
        "`<auth_server>/.well-known/openid-configuration`.",
        examples=["https://login.example.com/oauth2/default"],
    )
    scopes: list[Annotated[str, Field(pattern=v.SCOPE_PATTERN)]] | None = Field(
        default=None,
        description="Scopes to request by default.",
        examples=[["openid", "profile", "offline_access"]],
    )
    audiences: list[Annotated[str, Field(pattern=v.VISIBLE_ASCII_PATTERN)]] | None = Field(
        default=None,
        description="Audiences (resource indicators) to request.",
        examples=[["https://api.example.com"]],
    )
    issuer: str | None = _url("Expected `iss` of tokens, if not the discovered issuer.")
    organization: NonEmpty | None = Field(default=None, description="Auth0 organization to log in to.")
    project_id: NonEmpty | None = Field(default=None, description="Planet project to scope tokens to.")
    token_endpoint: str | None = _url("Token endpoint (RFC 6749 §3.2), overriding discovery.")
    authorization_endpoint: str | None = _url("Authorization endpoint (RFC 6749 §3.1), overriding discovery.")
    device_authorization_endpoint: str | None = _url("Device authorization endpoint (RFC 8628 §3.1).")
    introspection_endpoint: str | None = _url("Token introspection endpoint (RFC 7662).")
    revocation_endpoint: str | None = _url("Token revocation endpoint (RFC 7009).")
    userinfo_endpoint: str | None = _url("OIDC userinfo endpoint.")
    jwks_endpoint: str | None = _url("JWKS URI with the issuer's signing keys.")
    allowed_issuer_hosts: list[Annotated[str, Field(pattern=v.HOST_PATTERN)]] | None = Field(
        default=None,
        min_length=1,
        description="Pins the auth server: when set, the host of `auth_server`, `issuer` and every "
        "`*_endpoint` must be one of these, so an edit cannot send credentials elsewhere. (Checked by "
        "planet-profiles; JSON Schema cannot express it.)",
        examples=[["login.example.com"]],
    )


class ApiHostPinning(ClientConfigBase):
    """Types whose credential is sent to APIs: `allowed_api_hosts` limits which (SECURITY TOK-02)."""

    allowed_api_hosts: list[Annotated[str, Field(pattern=v.API_HOST_PATTERN)]] | None = Field(
        default=None,
        min_length=1,
        description="When set, the `Authorization` header is only attached to requests to these origins; "
        "requests elsewhere go out without it. Without it the credential goes to any host the application "
        "calls. An entry is an origin (`https://api.example.com`, `https://api.example.com:8443`; "
        "`http://` only for 127.0.0.1, localhost or [::1]) or `host[:port]`, meaning https on that port "
        "(443 when none is given); a loopback host without a port allows any port, http or https.",
        examples=[["https://api.example.com"]],
    )


class OidcClientConfig(OidcBaseConfig, ApiHostPinning):
    """An OIDC client with an identity at the auth server (`client_id`)."""

    client_id: NonEmpty = Field(description="The client's ID at the auth server.", examples=["my-cli-client"])
    token_refresh_window: str | None = Field(
        default=None,
        pattern=v.REFRESH_WINDOW_PATTERN,
        description="When to renew a token ahead of its expiry: when less than this is left, either seconds "
        "(`120s`) or a share of its lifetime (`25%`: at 75 % of it, as planet-auth does). Default: "
        "`PL_AUTH_TOKEN_REFRESH_WINDOW`, else 60 s or 10 % of the lifetime, whichever is less. A token is "
        "always renewed at least min(1 s, half its lifetime) before it expires.",
        examples=["25%", "120s"],
    )


class ClientSecretAuth(OidcClientConfig):
    """Client authentication with a shared secret (RFC 6749 §2.3.1)."""

    client_secret: Secret = Field(description="The client secret (encrypted in auth_client.sops.json).")
    client_auth_method: Literal["client_secret_basic", "client_secret_post"] | None = Field(
        default=None,
        description="How the secret is sent: HTTP Basic or in the form body. Default: as planet-auth "
        "sends it (in the form for the client credentials grant, else HTTP Basic), switching once to the "
        "other method if the server refuses it with `invalid_client` and its discovery lists the other.",
    )


class PrivateKeyJwtAuth(OidcClientConfig):
    """Client authentication with a signed JWT assertion (private_key_jwt, RFC 7523 §2.2)."""

    own_key_rules = (KeyRule(("client_privkey", "client_privkey_file"), exactly_one=True),)

    client_privkey: Secret | None = Field(default=None, description="PEM private key literal (secret).")
    client_privkey_file: NonEmpty | None = Field(default=None, description="Path of a PEM private key file.")
    client_privkey_password: Secret | None = Field(default=None, description="Password of the private key.")
    jwt_assertion_audience: NonEmpty | None = Field(
        default=None, description="`aud` of the client assertion; default: the token endpoint."
    )
    jwt_assertion_kid: NonEmpty | None = Field(
        default=None,
        description="`kid` header of the client assertion: the key id registered at the server. Default: "
        "none (the server tries each registered key); a `kid` the server does not know fails.",
    )
    jwt_signing_alg: Literal["RS256", "PS256", "ES256"] | None = Field(
        default=None,
        description="Assertion algorithm; default: from the key (RS256 for RSA, ES256 for P-256).",
    )


class AuthCodeFlowConfig(OidcClientConfig):
    """Authorization code grant with PKCE S256 (RFC 6749 §4.1, RFC 7636)."""

    own_key_rules = (KeyRule(("redirect_uri", "local_redirect_uri"), exactly_one=False),)

    redirect_uri: str | None = Field(
        default=None,
        pattern=v.URI_PATTERN,
        description="Redirect URI registered for logins without a local browser (the code is pasted back); "
        "defaults to `local_redirect_uri`.",
    )
    local_redirect_uri: str | None = Field(
        default=None,
        pattern=v.LOOPBACK_URL_PATTERN,
        description="Loopback redirect URI for the local callback listener; defaults to `redirect_uri`.",
        examples=["http://127.0.0.1:8080/callback"],
    )
    authorization_callback_acknowledgement: str | None = Field(
        default=None,
        description="Text shown in the browser after the callback, escaped into a fixed page (no HTML).",
    )
    authorization_callback_acknowledgement_file: NonEmpty | None = Field(
        default=None,
        description="File with the text shown in the browser after the callback (escaped, no HTML).",
    )


class DeviceCodeFlowConfig(OidcClientConfig):
    """Device authorization grant (RFC 8628)."""


class ResourceOwnerFlowConfig(OidcClientConfig):
    """Resource owner password credentials grant (RFC 6749 §4.3; discouraged, kept for parity)."""

    username: NonEmpty | None = Field(default=None, description="User name; prompted for when missing.")
    password: Secret | None = Field(
        default=None, description="User password (secret); prompted for when missing."
    )


class ClientCredentialsFlowConfig(OidcClientConfig):
    """Client credentials grant (RFC 6749 §4.4): the client acts for itself."""


class AuthCodeConfig(AuthCodeFlowConfig):
    client_type: Literal["oidc_auth_code"] = "oidc_auth_code"
    display_name = "Auth Code"
    description = "OAuth2 authorization code flow with PKCE for a public client (no client secret)."


class AuthCodeSecretConfig(AuthCodeFlowConfig, ClientSecretAuth):
    client_type: Literal["oidc_auth_code_secret"] = "oidc_auth_code_secret"
    display_name = "Auth Code (Client Secret)"
    description = "OAuth2 authorization code flow with PKCE for a confidential client using a client secret."


class AuthCodePubkeyConfig(AuthCodeFlowConfig, PrivateKeyJwtAuth):
    client_type: Literal["oidc_auth_code_pubkey"] = "oidc_auth_code_pubkey"
    display_name = "Auth Code (Public Key)"
    description = "OAuth2 authorization code flow with PKCE for a confidential client using private_key_jwt."


class DeviceCodeConfig(DeviceCodeFlowConfig):
    client_type: Literal["oidc_device_code"] = "oidc_device_code"
    display_name = "Device Code"
    description = "OAuth2 device code flow (RFC 8628) for a public client, e.g. on a host without a browser."


class DeviceCodeSecretConfig(DeviceCodeFlowConfig, ClientSecretAuth):
    client_type: Literal["oidc_device_code_secret"] = "oidc_device_code_secret"
    display_name = "Device Code (Client Secret)"
    description = "OAuth2 device code flow (RFC 8628) for a confidential client using a client secret."


class DeviceCodePubkeyConfig(DeviceCodeFlowConfig, PrivateKeyJwtAuth):
    client_type: Literal["oidc_device_code_pubkey"] = "oidc_device_code_pubkey"
    display_name = "Device Code (Public Key)"
    description = "OAuth2 device code flow (RFC 8628) for a confidential client using private_key_jwt."


class ResourceOwnerConfig(ResourceOwnerFlowConfig):
    client_type: Literal["oidc_resource_owner"] = "oidc_resource_owner"
    display_name = "Resource Owner"
    description = "OAuth2 resource owner password flow for a public client (not recommended)."


class ResourceOwnerSecretConfig(ResourceOwnerFlowConfig, ClientSecretAuth):
    client_type: Literal["oidc_resource_owner_secret"] = "oidc_resource_owner_secret"
    display_name = "Resource Owner (Client Secret)"
    description = "OAuth2 resource owner password flow for a client with a client secret (not recommended)."


class ResourceOwnerPubkeyConfig(ResourceOwnerFlowConfig, PrivateKeyJwtAuth):
    client_type: Literal["oidc_resource_owner_pubkey"] = "oidc_resource_owner_pubkey"
    display_name = "Resource Owner (Public Key)"
    description = "OAuth2 resource owner password flow for a client using private_key_jwt (not recommended)."


class ClientCredentialsSecretConfig(ClientCredentialsFlowConfig, ClientSecretAuth):
    client_type: Literal["oidc_client_credentials_secret"] = "oidc_client_credentials_secret"
    display_name = "Client Credentials (Client Secret)"
    description = "OAuth2 client credentials flow for a service, authenticated with a client secret."


class ClientCredentialsPubkeyConfig(ClientCredentialsFlowConfig, PrivateKeyJwtAuth):
    client_type: Literal["oidc_client_credentials_pubkey"] = "oidc_client_credentials_pubkey"
    display_name = "Client Credentials (Public Key)"
    description = "OAuth2 client credentials flow for a service, authenticated with private_key_jwt."


class ClientValidatorConfig(OidcBaseConfig):
    client_type: Literal["oidc_client_validator"] = "oidc_client_validator"
    display_name = "JWT Validator"
    description = "Validates incoming access tokens for a service; cannot log in or call APIs."

    client_id: NonEmpty | None = Field(default=None, description="Optional: the service's client ID.")
    typ_check: TypCheck = Field(
        default="auto",
        description="How an access token is told from an ID token of the same issuer (RFC 9068 §4): "
        "`auto` takes `at+jwt` tokens, and untyped or `JWT` ones without ID-token claims, until the issuer "
        "is seen issuing `at+jwt`; `at+jwt` requires that type; `any` checks nothing (servers that put "
        "ID-token claims in access tokens).",
    )


class PlanetLegacyConfig(ApiHostPinning):
    client_type: Literal["planet_legacy"] = "planet_legacy"
    display_name = "Planet Legacy Auth"
    description = "Planet's legacy e-mail/password login that yields an API key. Not for new applications."

    legacy_auth_endpoint: HttpsUrl = Field(
        default=PLANET_LEGACY_AUTH_ENDPOINT, description="Planet's legacy login endpoint."
    )
    api_key: Secret | None = Field(default=None, description="A Planet API key (secret), if already known.")


class StaticApiKeyConfig(ApiHostPinning):
    client_type: Literal["static_apikey"] = "static_apikey"
    display_name = "API Key"
    description = "A static API key sent as `Authorization: <bearer_token_prefix> <api_key>`."

    api_key: Secret = Field(description="The API key (secret; encrypted in auth_client.sops.json).")
    bearer_token_prefix: str = Field(
        default="Bearer",
        pattern=v.VISIBLE_ASCII_PATTERN,
        description="Authorization scheme sent before the key.",
    )


class NoneConfig(ClientConfigBase):
    client_type: Literal["none"] = "none"
    display_name = "No Auth"
    description = "Does not authenticate requests."


ClientConfig = Annotated[
    AuthCodeConfig
    | AuthCodeSecretConfig
    | AuthCodePubkeyConfig
    | DeviceCodeConfig
    | DeviceCodeSecretConfig
    | DeviceCodePubkeyConfig
    | ResourceOwnerConfig
    | ResourceOwnerSecretConfig
    | ResourceOwnerPubkeyConfig
    | ClientCredentialsSecretConfig
    | ClientCredentialsPubkeyConfig
    | ClientValidatorConfig
    | PlanetLegacyConfig
    | StaticApiKeyConfig
    | NoneConfig,
    Field(discriminator="client_type"),
]
"""The discriminated union of every config model (for pydantic fields and `TypeAdapter`s)."""

CONFIG_MODELS: dict[str, type[ClientConfigBase]] = {
    m.CLIENT_TYPE: m for m in get_args(get_args(ClientConfig)[0])
}
"""client_type → model, in the order of DESIGN.md's table."""

CLIENT_TYPES: tuple[str, ...] = tuple(CONFIG_MODELS)


def _cross_field_problems(model: type[ClientConfigBase], data: Mapping[str, Any]) -> list[v.RuleProblem]:
    problems = v.key_rule_problems(data, model.key_rules)
    if "allowed_issuer_hosts" in model.model_fields:
        problems += v.pinned_host_problems(data)
    return problems


def parse_config(data: Mapping[str, Any], *, file: str | None = None) -> ClientConfigBase:
    """The typed model of a config mapping, or `ConfigError` listing every `Problem` (none holds a secret).

    `file` names the source in problems (default `<config>`, e.g. for `planet_auth_utils` custom configs).
    """
    where = file or "<config>"
    if not isinstance(data, Mapping):
        raise ConfigError.from_problems(
            [Problem(where, "", f"a profile must be a JSON object; got {v.describe(data)}")]
        )
    client_type = data.get("client_type")
    if "client_type" not in data:
        problem = v.msg_missing("client_type") + "; one of: " + ", ".join(CLIENT_TYPES)
        raise ConfigError.from_problems([Problem(where, "/client_type", problem)])
    if not isinstance(client_type, str) or client_type not in CONFIG_MODELS:
        raise ConfigError.from_problems(
            [Problem(where, "/client_type", v.msg_unknown_client_type(client_type, CLIENT_TYPES))]
        )
    model = CONFIG_MODELS[client_type]
    problems = [Problem(where, ptr, msg) for ptr, msg in _cross_field_problems(model, data)]
    try:
        config = model.model_validate(data, context={_SKIP_CROSS_CHECKS: True})
    except ValidationError as exc:
        problems += (
            Problem(where, v.pointer(e["loc"]), _message(model, e)) for e in exc.errors(include_input=True)
        )
    else:
        if not problems:
            return config
    raise ConfigError.from_problems(v.sort_problems(problems)) from None


def _message(model: type[ClientConfigBase], error: Any) -> str:
    """Our wording of one pydantic error; built from its type and location, never from the input value."""
    kind, parts = error["type"], list(error["loc"])
    value = error.get("input")
    field = model.model_fields.get(str(parts[0])) or next(
        (f for f in model.model_fields.values() if f.alias == parts[0]), None
    )
    examples = field.examples if field is not None and len(parts) == 1 else None
    if kind == "missing":
        return v.msg_missing(str(parts[0]))
    if kind == "extra_forbidden":
        known = [f.alias or name for name, f in model.model_fields.items()]
        owners = [
            t
            for t, m in CONFIG_MODELS.items()
            if parts[0] in {f.alias or n for n, f in m.model_fields.items()}
        ]
        return v.msg_unknown_key(str(parts[0]), model.CLIENT_TYPE, known, owners)
    if kind == "null_value" and field is not None and _literal_values(field.annotation):
        return v.msg_choice(parts, _literal_values(field.annotation))
    if kind == "null_value" and field is not None:
        expected = (
            "array"
            if list in (get_origin(a) for a in (field.annotation, *get_args(field.annotation)))
            else "string"
        )
        return v.msg_wrong_type(parts, expected, None, examples)
    if kind in _PYDANTIC_TYPES:
        required = field is not None and field.is_required()
        return v.msg_wrong_type(parts, _PYDANTIC_TYPES[kind], value, examples, required=required)
    if kind == "string_pattern_mismatch":
        return v.msg_pattern(parts, error["ctx"]["pattern"])
    if kind in ("string_too_short", "too_short"):
        return v.msg_empty(parts, value)
    if kind == "string_unicode":
        return v.msg_not_unicode(parts)
    if kind == "literal_error" and field is not None:
        return v.msg_choice(parts, _literal_values(field.annotation))
    return v.msg_invalid(parts, kind)


_PYDANTIC_TYPES = {
    "string_type": "string",
    "list_type": "array",
    "bool_type": "boolean",
    "dict_type": "object",
}


def _literal_values(annotation: Any) -> list[Any]:
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    return [x for arg in get_args(annotation) for x in _literal_values(arg)]
