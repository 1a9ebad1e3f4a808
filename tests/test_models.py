"""The config models: the 15 client types, strict parsing, every problem reported, secrets never shown."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from planet_profiles._errors import ConfigError
from planet_profiles._models import (
    CLIENT_TYPES,
    CONFIG_MODELS,
    PLANET_LEGACY_AUTH_ENDPOINT,
    REDACTED,
    SECRET_KEYS,
    AuthCodeConfig,
    ClientConfig,
    ClientCredentialsSecretConfig,
    ClientSecretAuth,
    ClientValidatorConfig,
    OidcClientConfig,
    PrivateKeyJwtAuth,
    StaticApiKeyConfig,
    parse_config,
)

SECRET = "S3CR3T-VALUE-never-shown"
SERVER = "https://login.example.com/oauth2/default"

# One minimal valid document per client type (planet-auth key names).
MINIMAL: dict[str, dict[str, Any]] = {
    "oidc_auth_code": {"client_id": "cli", "local_redirect_uri": "http://127.0.0.1:8080/callback"},
    "oidc_auth_code_secret": {
        "client_id": "cli",
        "redirect_uri": "https://app.example.com/cb",
        "client_secret": SECRET,
    },
    "oidc_auth_code_pubkey": {
        "client_id": "cli",
        "redirect_uri": "http://localhost:8080",
        "client_privkey": SECRET,
    },
    "oidc_device_code": {"client_id": "cli"},
    "oidc_device_code_secret": {"client_id": "cli", "client_secret": SECRET},
    "oidc_device_code_pubkey": {"client_id": "cli", "client_privkey_file": "~/.planet/key.pem"},
    "oidc_resource_owner": {"client_id": "cli", "username": "me@example.com", "password": SECRET},
    "oidc_resource_owner_secret": {"client_id": "cli", "client_secret": SECRET},
    "oidc_resource_owner_pubkey": {
        "client_id": "cli",
        "client_privkey": SECRET,
        "client_privkey_password": SECRET,
    },
    "oidc_client_credentials_secret": {"client_id": "svc", "client_secret": SECRET},
    "oidc_client_credentials_pubkey": {"client_id": "svc", "client_privkey_file": "/etc/svc/key.pem"},
    "oidc_client_validator": {"audiences": ["https://api.example.com"]},
    "planet_legacy": {},
    "static_apikey": {"api_key": SECRET},
    "none": {},
}


def minimal(client_type: str, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"client_type": client_type, **MINIMAL[client_type], **extra}
    if client_type.startswith("oidc_"):
        doc.setdefault("auth_server", SERVER)
    return doc


def problems(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        parse_config(data, file="p/auth_client.json")
    assert all(p.file == "p/auth_client.json" for p in info.value.problems)
    return [(p.pointer, p.message) for p in info.value.problems]


def test_client_types_are_planet_auths_in_design_order() -> None:
    assert CLIENT_TYPES == (
        "oidc_auth_code",
        "oidc_auth_code_secret",
        "oidc_auth_code_pubkey",
        "oidc_device_code",
        "oidc_device_code_secret",
        "oidc_device_code_pubkey",
        "oidc_resource_owner",
        "oidc_resource_owner_secret",
        "oidc_resource_owner_pubkey",
        "oidc_client_credentials_secret",
        "oidc_client_credentials_pubkey",
        "oidc_client_validator",
        "planet_legacy",
        "static_apikey",
        "none",
    )
    assert tuple(CONFIG_MODELS) == CLIENT_TYPES
    names = set()
    for client_type, model in CONFIG_MODELS.items():
        assert model.CLIENT_TYPE == client_type
        assert model.display_name and model.description and model.description.endswith(".")
        names.add(model.display_name)
    assert len(names) == len(CLIENT_TYPES)


def test_secret_keys_are_secret_str_fields() -> None:
    assert SECRET_KEYS == (
        "client_secret",
        "client_privkey",
        "client_privkey_password",
        "password",
        "api_key",
    )
    assert {k for m in CONFIG_MODELS.values() for k in m.secret_keys} == set(SECRET_KEYS)
    assert CONFIG_MODELS["oidc_client_credentials_secret"].secret_keys == ("client_secret",)
    assert CONFIG_MODELS["oidc_device_code"].secret_keys == ()
    for model in CONFIG_MODELS.values():
        for key in model.secret_keys:
            assert "SecretStr" in repr(model.model_fields[key].annotation)


@pytest.mark.parametrize("client_type", CLIENT_TYPES)
def test_minimal_documents_parse_and_round_trip(client_type: str) -> None:
    doc = minimal(client_type)
    config = parse_config(doc)
    assert type(config) is CONFIG_MODELS[client_type]
    assert config.client_type == client_type
    assert config.to_dict(reveal_secrets=True, exclude_unset=True) == doc
    assert parse_config(config.to_dict(reveal_secrets=True)) == config
    shown = config.to_dict()
    for key in config.secret_keys:
        if key in doc:
            assert shown[key] == REDACTED
    assert SECRET not in json.dumps(shown)
    assert TypeAdapter(ClientConfig).validate_python(doc) == config


def test_class_hierarchy_lets_flows_ask_what_they_need() -> None:
    cc = parse_config(minimal("oidc_client_credentials_secret"))
    assert isinstance(cc, ClientSecretAuth) and isinstance(cc, OidcClientConfig)
    assert isinstance(parse_config(minimal("oidc_device_code_pubkey")), PrivateKeyJwtAuth)
    assert not isinstance(parse_config(minimal("oidc_client_validator")), OidcClientConfig)


def test_defaults() -> None:
    assert parse_config({"client_type": "planet_legacy"}).to_dict() == {
        "client_type": "planet_legacy",
        "legacy_auth_endpoint": PLANET_LEGACY_AUTH_ENDPOINT,
    }
    static = parse_config(minimal("static_apikey"))
    assert isinstance(static, StaticApiKeyConfig) and static.bearer_token_prefix == "Bearer"
    cc = parse_config(minimal("oidc_client_credentials_secret"))
    assert isinstance(cc, ClientCredentialsSecretConfig) and cc.client_auth_method is None
    assert cc.client_secret.get_secret_value() == SECRET
    validator = parse_config(minimal("oidc_client_validator"))
    assert isinstance(validator, ClientValidatorConfig) and validator.client_id is None


def test_schema_key_is_allowed_for_editors() -> None:
    doc = minimal("none", **{"$schema": "https://planet-profiles.dev/schema/auth_client.schema.json"})
    assert parse_config(doc).to_dict() == doc
    assert problems(minimal("none", schema_ref="x")) == [
        ("/schema_ref", "unknown key `schema_ref` for client_type `none`; valid keys: $schema, client_type")
    ]


def test_unknown_client_type_lists_the_valid_ones() -> None:
    [(where, message)] = problems({"client_type": "oidc_authcode", "auth_server": SERVER})
    assert where == "/client_type"
    assert "unknown client_type `oidc_authcode` (did you mean `oidc_auth_code`?)" in message
    assert all(t in message for t in CLIENT_TYPES)
    [(_, message)] = problems({"client_type": 7})
    assert message.startswith("`client_type` must be a string; got a number; valid types: oidc_auth_code,")
    [(where, message)] = problems({"auth_server": SERVER})
    assert where == "/client_type" and message.startswith("missing required key `client_type`; one of:")


def test_missing_client_id() -> None:
    doc = minimal("oidc_device_code")
    del doc["client_id"]
    assert problems(doc) == [("/client_id", "missing required key `client_id`")]


def test_scopes_as_a_string() -> None:
    assert problems(minimal("oidc_device_code", scopes="openid profile")) == [
        (
            "/scopes",
            '`scopes` must be a list of strings, e.g. ["openid", "profile", "offline_access"]; got a string',
        )
    ]
    assert problems(minimal("oidc_device_code", scopes=["openid profile", 3])) == [
        (
            "/scopes/0",
            "`scopes[0]` must be a single scope such as `openid` "
            "(no spaces, quotes or backslashes; RFC 6749 §3.3)",
        ),
        ("/scopes/1", "`scopes[1]` must be a string; got a number"),
    ]


def test_unknown_key_with_did_you_mean() -> None:
    doc = minimal("oidc_client_credentials_secret")
    doc["client_scret"] = doc.pop("client_secret")
    assert problems(doc) == [
        ("/client_scret", "unknown key `client_scret` (did you mean `client_secret`?)"),
        ("/client_secret", "missing required key `client_secret`"),
    ]
    # A key of a sibling type points at that type.
    assert problems(minimal("oidc_auth_code", client_secret=SECRET)) == [
        (
            "/client_secret",
            "unknown key `client_secret` for client_type `oidc_auth_code` "
            "(did you mean client_type `oidc_auth_code_secret`?)",
        )
    ]


def test_every_problem_is_reported_at_once() -> None:
    doc = {
        "client_type": "oidc_auth_code_pubkey",
        "auth_server": "http://login.example.com",  # plain http to a non-loopback host
        "client_id": 12,
        "client_privkey": SECRET,
        "client_privkey_file": "key.pem",
        "issuer": None,
        "jwt_signing_alg": "HS256",
        "scope": ["openid"],
    }
    got = problems(doc)
    assert [w for w, _ in got] == [  # the did-you-mean first, then by pointer
        "/scope",
        "/auth_server",
        "/client_id",
        "/client_privkey",
        "/issuer",
        "/jwt_signing_alg",
        "/redirect_uri",
    ]
    text = dict(got)
    assert "https URL" in text["/auth_server"]
    assert text["/client_id"] == '`client_id` must be a string, e.g. "my-cli-client"; got a number'
    assert text["/client_privkey"] == "set only one of `client_privkey`, `client_privkey_file`, not both"
    assert text["/issuer"] == "`issuer` must be a string; got null (leave the key out instead)"
    assert text["/jwt_signing_alg"] == "`jwt_signing_alg` must be one of `RS256`, `PS256`, `ES256`"
    assert text["/redirect_uri"] == "at least one of `redirect_uri`, `local_redirect_uri` is required"
    assert text["/scope"] == "unknown key `scope` (did you mean `scopes`?)"
    with pytest.raises(ConfigError) as info:
        parse_config(doc, file="p/auth_client.json")
    # the did-you-mean first: a misspelled key is often the cause of the others
    first = "p/auth_client.json: scope: unknown key `scope` (did you mean `scopes`?)"
    assert str(info.value).startswith(first)
    assert "(and 6 more problem(s))" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_exactly_one_private_key() -> None:
    doc = minimal("oidc_client_credentials_pubkey")
    del doc["client_privkey_file"]
    assert problems(doc) == [
        ("/client_privkey", "exactly one of `client_privkey`, `client_privkey_file` is required")
    ]


def test_no_coercion() -> None:
    assert problems(minimal("oidc_device_code", client_id=123)) == [
        ("/client_id", '`client_id` must be a string, e.g. "my-cli-client"; got a number')
    ]
    assert problems(minimal("oidc_device_code", audiences="https://api.example.com"))[0][0] == "/audiences"
    assert problems(minimal("static_apikey", bearer_token_prefix=True))[0][0] == "/bearer_token_prefix"
    assert problems(minimal("oidc_device_code", scopes=("openid",)))[0][0] == "/scopes"


def test_non_object_document() -> None:
    assert problems(["client_type"]) == [("", "a profile must be a JSON object; got a list")]


@pytest.mark.parametrize(
    "url",
    [
        "http://login.example.com",
        "https://user:pw@login.example.com",
        "login.example.com",
        "https://a b",
        "https://x\n",
    ],
)
def test_urls_must_be_https_except_loopback(url: str) -> None:
    assert problems(minimal("oidc_device_code", auth_server=url))[0][0] == "/auth_server"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9000", "http://localhost/x", "http://[::1]:80/", "https://a.b:8443/p?q#f"]
)
def test_loopback_http_and_https_urls_pass(url: str) -> None:
    assert parse_config(minimal("oidc_device_code", auth_server=url))


def test_local_redirect_uri_must_be_loopback() -> None:
    doc = minimal("oidc_auth_code", local_redirect_uri="http://0.0.0.0:8080/cb")
    assert problems(doc) == [
        (
            "/local_redirect_uri",
            "`local_redirect_uri` must be a loopback http URL such as "
            "`http://127.0.0.1:8080/callback` (RFC 8252 §7.3)",
        )
    ]


def test_allowed_issuer_hosts_pin_every_server_url() -> None:
    pinned = minimal("oidc_client_credentials_secret", allowed_issuer_hosts=["login.example.com"])
    assert parse_config(pinned)
    assert parse_config({**pinned, "token_endpoint": "https://LOGIN.example.com:8443/token"})
    got = problems(
        {**pinned, "token_endpoint": "https://evil.example.net/token", "auth_server": "https://b.example.com"}
    )
    assert got == [
        (
            "/auth_server",
            "host `b.example.com` of `auth_server` is not in `allowed_issuer_hosts` (login.example.com); "
            "fix the URL, or add the host if that server is trusted",
        ),
        (
            "/token_endpoint",
            "host `evil.example.net` of `token_endpoint` is not in `allowed_issuer_hosts` "
            "(login.example.com); fix the URL, or add the host if that server is trusted",
        ),
    ]
    assert problems({**pinned, "allowed_issuer_hosts": []}) == [
        ("/allowed_issuer_hosts", "`allowed_issuer_hosts` must list at least one entry")
    ]
    assert (
        problems({**pinned, "allowed_issuer_hosts": ["https://login.example.com"]})[0][0]
        == "/allowed_issuer_hosts/0"
    )


def test_direct_construction_checks_the_cross_field_rules_too() -> None:
    assert AuthCodeConfig(auth_server=SERVER, client_id="x", redirect_uri="https://a.example.com/cb")
    with pytest.raises(
        ValidationError, match="at least one of `redirect_uri`, `local_redirect_uri` is required"
    ):
        AuthCodeConfig(auth_server=SERVER, client_id="x")
    with pytest.raises(ValidationError, match="not in `allowed_issuer_hosts`"):
        AuthCodeConfig(
            auth_server=SERVER,
            client_id="x",
            redirect_uri="https://a.example.com",
            allowed_issuer_hosts=["x.example.com"],
        )


def test_secrets_never_in_repr_str_or_errors() -> None:
    for client_type in CLIENT_TYPES:
        config = parse_config(minimal(client_type))
        for text in (repr(config), str(config), config.model_dump_json(), json.dumps(config.to_dict())):
            assert SECRET not in text
    assert "client_secret=SecretStr('**********')" in repr(parse_config(minimal("oidc_device_code_secret")))
    # Secrets in every kind of bad place: wrong type, unknown key, wrong client type, bad sibling values.
    bad_docs = [
        minimal("oidc_auth_code", client_secret=SECRET, password=SECRET, api_key=SECRET),
        minimal("oidc_device_code_secret", client_secret=[SECRET], scopes=SECRET, issuer=SECRET),
        minimal("static_apikey", api_key={"v": SECRET}, bearer_token_prefix=SECRET + " x"),
        minimal("oidc_resource_owner", password=5, client_id=SECRET + " ", auth_server=SECRET),
    ]
    for doc in bad_docs:
        with pytest.raises(ConfigError) as info:
            parse_config(doc)
        rendered = [str(info.value), repr(info.value), *map(str, info.value.problems)]
        assert not any(SECRET in text for text in rendered), rendered
    with pytest.raises(ValidationError) as exc:
        StaticApiKeyConfig.model_validate({"client_type": "static_apikey", "api_key": SECRET, "x": SECRET})
    assert SECRET not in str(exc.value)


def test_planet_auth_profiles_parse_unchanged() -> None:
    """Profiles as planet-auth writes them (sorted keys, no nulls) are accepted as they are."""
    for doc in (
        {
            "audiences": ["https://api.planet.com/"],
            "auth_server": "https://login.planet.com/oauth2/aus1234",
            "client_id": "abc123",
            "client_type": "oidc_auth_code",
            "redirect_uri": "http://localhost:8080",
            "local_redirect_uri": "http://localhost:8080",
            "scopes": ["planet", "offline_access", "openid", "profile"],
            "organization": "org_123",
            "project_id": "proj_1",
        },
        {"client_type": "static_apikey", "api_key": "PLAKxxxx", "bearer_token_prefix": "api-key"},
        {
            "client_type": "oidc_client_credentials_secret",
            "auth_server": "https://login.planet.com/oauth2/aus1234",
            "client_id": "m2m",
            "client_secret": "xyz",
            "scopes": ["planet"],
            "audiences": ["https://api.planet.com/"],
        },
    ):
        assert parse_config(doc).to_dict(reveal_secrets=True, exclude_unset=True) == doc


def test_models_do_not_import_jsonschema() -> None:
    code = "import sys, planet_profiles._models; print('jsonschema' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
