"""The typed config views (`planet_profiles._config_views`' Protocols) against the committed schemas.

Every `AuthClient` class reads its config through the view it names (`_config: …`, plus the view of its
client authentication method): each key such a view declares must be a key of the schema of every client type
that reads through it, with the schema's type, and may only be declared without `None` when the schema
requires the key or gives it a default. So a misspelt key in a view fails here, and mypy then checks every
read of the view in the code.
"""

from __future__ import annotations

import json
import types
import typing
from typing import Any, Protocol

import pytest

from planet_profiles import _config_views, _oauth
from planet_profiles._clients import CLIENT_AUTH_CONFIGS, OidcAuthClient, client_class_for
from planet_profiles._config import ClientConfig, EndpointKey, ProfileConfig, SecretValue, parse_config
from planet_profiles._config_views import OidcClientConfig
from planet_profiles._models import CLIENT_TYPES
from planet_profiles._models import parse_config as parse_model
from planet_profiles._names import ENDPOINT_KEYS
from planet_profiles._oauth import endpoint_override
from planet_profiles._schema import schema_path
from tests.test_models import minimal

CLASS_FACTS = ("secret_keys", "to_dict")  # members of every config that are not schema keys
VIEWS = [
    value
    for name, value in vars(_config_views).items()
    if isinstance(value, type) and getattr(value, "_is_protocol", False) and value is not SecretValue
]


def members(view: type) -> dict[str, Any]:
    """Name → declared type of every member of a view, its base views' included (the narrowest wins)."""
    out: dict[str, Any] = {}
    for cls in reversed(view.__mro__):
        if not getattr(cls, "_is_protocol", False) or cls is Protocol:
            continue
        hints = typing.get_type_hints(cls, vars(_config_views))  # its bases' too, the class's own last
        for name in vars(cls).get("__annotations__", {}):  # declared `key: type` (mypy: read or written)
            out[name] = hints[name]
        for name, attr in vars(cls).items():
            if isinstance(attr, property):  # declared read-only (`IssuerConfig`: a validator's is a tuple)
                out[name] = typing.get_type_hints(attr.fget, vars(_config_views))["return"]
            elif callable(attr) and not name.startswith("_"):
                out[name] = attr
    return out


def _json_type(prop: dict[str, Any]) -> str | None:
    if prop.get("type") == "array":
        return f"array of {_json_type(prop.get('items', {}))}"
    if prop.get("type") == "string" or isinstance(prop.get("const"), str):
        return "string"
    if prop.get("enum") and all(isinstance(value, str) for value in prop["enum"]):
        return "string"
    return prop.get("type")


def _declared_type(annotation: Any) -> tuple[str | None, bool, bool]:
    """(JSON type, may be None, is a secret) of a member's annotation."""
    args = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    (base,) = [arg for arg in args if arg is not type(None)]
    json_type = {str: "string", SecretValue: "string"}.get(base)
    if typing.get_origin(base) is list and typing.get_args(base) == (str,):
        json_type = "array of string"
    return json_type, type(None) in args, base is SecretValue


def view_problems(view: type, client_type: str) -> list[str]:
    """What is wrong with reading a `client_type` config through `view` (empty: nothing)."""
    schema = json.loads(schema_path(client_type).read_text(encoding="utf-8"))
    properties, required = schema["properties"], set(schema.get("required", ()))
    problems = []
    for name, declared in members(view).items():
        where = f"{view.__name__}.{name} for `{client_type}`"
        if name in CLASS_FACTS:
            if not hasattr(ProfileConfig, name):
                problems.append(f"{where}: ProfileConfig has no `{name}`")
            continue
        if name not in properties:
            problems.append(f"{where}: no such key in the schema")
            continue
        prop = properties[name]
        json_type, optional, secret = _declared_type(declared)
        if json_type != _json_type(prop):
            problems.append(f"{where}: declared {json_type}, the schema says {_json_type(prop)}")
        if secret != bool(prop.get("x-secret")):
            problems.append(f"{where}: declared {'a' if secret else 'not a'} secret, the schema disagrees")
        if not optional and name not in required and "default" not in prop:
            problems.append(f"{where}: declared never None, but the schema neither requires nor defaults it")
    return problems


def views_of(client_type: str) -> list[type]:
    """The views the client class of `client_type` reads its config through."""
    cls = client_class_for(client_type)
    hints = typing.get_type_hints(cls, localns={**vars(_oauth), **vars(_config_views)})  # (TYPE_CHECKING)
    views = [hints["_config"]]
    if issubclass(cls, OidcAuthClient):
        views.append(getattr(_config_views, CLIENT_AUTH_CONFIGS[cls.client_auth_method]))
    return views


@pytest.mark.parametrize("client_type", CLIENT_TYPES)
def test_every_view_a_client_type_reads_through_matches_its_schema(client_type: str) -> None:
    views = views_of(client_type)
    assert all(view in VIEWS for view in views)
    assert [problem for view in views for problem in view_problems(view, client_type)] == []


def test_every_view_is_read_by_some_client_type() -> None:
    used = {base for ct in CLIENT_TYPES for view in views_of(ct) for base in view.__mro__}
    assert [view.__name__ for view in VIEWS if view not in used] == []


def test_a_misspelt_or_mistyped_key_in_a_view_is_caught() -> None:
    """The check above can fail: a typo, a wrong type, a key the type lacks, a wrongly required key."""

    class Typo(OidcClientConfig, Protocol):
        scoeps: list[str] | None
        audiences: str | None  # type: ignore[assignment]
        client_secret: SecretValue
        redirect_uri: SecretValue | None

        @property
        def issuer(self) -> str: ...

    assert sorted(view_problems(Typo, "oidc_auth_code")) == [
        "Typo.audiences for `oidc_auth_code`: declared string, the schema says array of string",
        "Typo.client_secret for `oidc_auth_code`: no such key in the schema",
        "Typo.issuer for `oidc_auth_code`: declared never None, but the schema neither requires nor "
        "defaults it",
        "Typo.redirect_uri for `oidc_auth_code`: declared a secret, the schema disagrees",
        "Typo.scoeps for `oidc_auth_code`: no such key in the schema",
    ]
    assert sorted(view_problems(OidcClientConfig, "oidc_client_validator")) == [
        "OidcClientConfig.allowed_api_hosts for `oidc_client_validator`: no such key in the schema",
        "OidcClientConfig.client_id for `oidc_client_validator`: declared never None, but the schema neither "
        "requires nor defaults it",
        "OidcClientConfig.token_refresh_window for `oidc_client_validator`: no such key in the schema",
    ]


@pytest.mark.parametrize("client_type", CLIENT_TYPES)
def test_configs_and_models_give_every_member_of_their_views(client_type: str) -> None:
    """At run time too: a `ProfileConfig` and a model of the type answer every member of its views."""
    doc = minimal(client_type)
    for config in (parse_config(doc), parse_model(doc)):
        for view in views_of(client_type):
            for name in members(view):
                getattr(config, name)


def test_endpoint_keys_and_overrides() -> None:
    assert ENDPOINT_KEYS == typing.get_args(EndpointKey)
    assert len(ENDPOINT_KEYS) == 7
    urls = {key: f"https://login.example.com/{key}" for key in ENDPOINT_KEYS}
    doc = minimal("oidc_device_code", **urls)
    for config in (parse_config(doc), parse_model(doc)):
        assert {key: endpoint_override(config, key) for key in ENDPOINT_KEYS} == urls
    assert endpoint_override(parse_config(minimal("oidc_device_code")), "token_endpoint") is None


def test_base_view_is_every_config() -> None:
    for client_type in CLIENT_TYPES:
        assert view_problems(ClientConfig, client_type) == []
