"""Stage "validate" on the load path: a profile document checked against its committed JSON Schema, into a
light immutable `ProfileConfig`, without pydantic or jsonschema.

`planet_profiles._models` stays the one source of the schema (`schema/<client_type>.schema.json` is generated
from it, checked for drift by a test) and `planet_profiles._models.parse_config` stays an API; but importing
pydantic, building a model and validating cost about 85 ms of a fresh process, more than everything else a
service does to load a profile. `parse_config` here reads the type's schema file once a process, checks the
document with `planet_profiles._schemacheck` (the few keywords the generated schemas use) plus the rule JSON
Schema cannot express (`allowed_issuer_hosts`, SECURITY DISC-02), and words every problem exactly as the
models do (a hypothesis test cross-checks both on valid and invalid documents of every type).

`ProfileConfig` has the attribute API of the models: every key of the type's schema is an attribute (`None`
when unset, the schema's `default` when it has one; `$schema` is `schema_ref`), secret keys are `Secret`s
(`repr`/`str` never show them; `get_secret_value()` as pydantic's `SecretStr`), `to_dict()` and the class
facts `client_type`, `display_name`, `description`, `secret_keys`, `key_rules`.

The stages read a config through typed views: `ClientConfig` here (every config), and one `Protocol` per
client-type family in `planet_profiles._config_views` (for type checkers only), which a `ProfileConfig` and a
model of that family both satisfy.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, Protocol

from ._errors import ConfigError, Problem
from ._names import ENDPOINT_KEYS, REDACTED, EndpointKey, Record
from ._problems import KeyRule, describe, sort_problems
from ._validate import type_problems, type_schema

__all__ = [
    "KEY_ORDER",
    "REDACTED",
    "ClientConfig",
    "EndpointKey",
    "ProfileConfig",
    "Secret",
    "SecretValue",
    "parse_config",
    "secret_value",
]

KEY_ORDER: tuple[str, ...] = (
    "$schema",
    "client_type",
    "allowed_api_hosts",
    "auth_server",
    "scopes",
    "audiences",
    "issuer",
    "organization",
    "project_id",
    *ENDPOINT_KEYS,
    "allowed_issuer_hosts",
    "client_id",
    "typ_check",
    "token_refresh_window",
    "client_secret",
    "client_auth_method",
    "client_privkey",
    "client_privkey_file",
    "client_privkey_password",
    "jwt_assertion_audience",
    "jwt_assertion_kid",
    "jwt_signing_alg",
    "redirect_uri",
    "local_redirect_uri",
    "authorization_callback_acknowledgement",
    "authorization_callback_acknowledgement_file",
    "username",
    "password",
    "legacy_auth_endpoint",
    "api_key",
    "bearer_token_prefix",
)
"""The order of keys in `to_dict()`: the models' field order (a test checks it against every model)."""

_RANK = {key: i for i, key in enumerate(KEY_ORDER)}


class Secret:
    """A secret string: `repr`/`str` show `**********`; `get_secret_value()` gives it (as pydantic's
    `SecretStr`)."""

    __slots__ = ("_secret_value",)

    def __init__(self, value: str) -> None:
        self._secret_value = value

    def get_secret_value(self) -> str:
        return self._secret_value

    def __repr__(self) -> str:
        return f"SecretStr('{self}')"

    def __str__(self) -> str:
        return REDACTED if self._secret_value else ""

    def __len__(self) -> int:
        return len(self._secret_value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._secret_value == self._secret_value

    def __hash__(self) -> int:
        return hash(self._secret_value)


class _Spec(Record):
    """What one client type's schema file says, read once a process."""

    __slots__ = ()

    client_type: str
    properties: Mapping[str, Mapping[str, object]]
    defaults: dict[str, object]
    secret_keys: tuple[str, ...]
    key_rules: tuple[KeyRule, ...]
    display_name: str
    description: str


def _parenthesized(text: str) -> str | None:
    r"""What the final parentheses of `text`'s last line hold (`"… (Auth Code)"` → `"Auth Code"`), as
    `re.search(r"\((.*)\)\Z", text)` finds it, without compiling a regex at every cold start."""
    if not text.endswith(")"):
        return None
    start = text.find("(", text.rfind("\n") + 1)
    return None if start < 0 else text[start + 1 : -1]


@cache
def _spec(client_type: str) -> _Spec:
    typed = type_schema(client_type)
    schema, props = typed.schema, typed.properties
    unordered = set(props) - set(_RANK)
    if unordered:
        raise RuntimeError(f"schema keys {sorted(unordered)} are missing from _config.KEY_ORDER")
    title = _parenthesized(str(schema.get("title", "")))
    return _Spec(
        client_type=client_type,
        properties=props,
        defaults={k: p["default"] for k, p in props.items() if "default" in p},
        secret_keys=tuple(sorted((k for k, p in props.items() if p.get("x-secret")), key=_RANK.__getitem__)),
        key_rules=typed.key_rules,
        display_name=client_type if title is None else title,
        description=str(schema.get("description", "")),
    )


class ProfileConfig:
    """An immutable, validated profile config; the attribute API of `planet_profiles._models`' models."""

    __slots__ = ("_set", "_spec", "_values")

    _spec: _Spec
    _values: dict[str, object]
    _set: frozenset[str]

    def __init__(self, spec: _Spec, data: Mapping[str, object]) -> None:
        """Use `parse_config`: this trusts that `data` was validated against `spec`."""
        merged = {**spec.defaults, **data}
        values = {}
        for key in sorted(merged, key=_RANK.__getitem__):
            value = merged[key]
            values[key] = Secret(str(value)) if key in spec.secret_keys else _copy(value)  # (str: validated)
        object.__setattr__(self, "_spec", spec)
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_set", frozenset(data))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # an unset slot (copy, pickle): never look it up in the schema
            raise AttributeError(name)
        key = "$schema" if name == "schema_ref" else name
        if key in self._spec.properties:
            return self._values.get(key)
        raise AttributeError(
            f"{type(self).__name__} of client_type `{self._spec.client_type}` has no `{name}`"
        )

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a profile config is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("a profile config is immutable")

    @property
    def client_type(self) -> str:
        return self._spec.client_type

    @property
    def CLIENT_TYPE(self) -> str:  # noqa: N802 (the models' class attribute)
        return self._spec.client_type

    @property
    def display_name(self) -> str:
        return self._spec.display_name

    @property
    def description(self) -> str:
        return self._spec.description

    @property
    def secret_keys(self) -> tuple[str, ...]:
        return self._spec.secret_keys

    @property
    def key_rules(self) -> tuple[KeyRule, ...]:
        return self._spec.key_rules

    def to_dict(self, *, reveal_secrets: bool = False, exclude_unset: bool = False) -> dict[str, Any]:
        """The planet-auth-compatible JSON dict; secrets are `REDACTED` unless `reveal_secrets`."""
        out: dict[str, object] = {}
        for key, value in self._values.items():
            if exclude_unset and key not in self._set and key != "client_type":
                continue
            if isinstance(value, Secret):
                out[key] = value.get_secret_value() if reveal_secrets else REDACTED
            else:
                out[key] = _copy(value)
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProfileConfig):
            return NotImplemented
        return self._spec.client_type == other._spec.client_type and self._values == other._values

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        args = ", ".join(
            f"{'schema_ref' if key == '$schema' else key}={value!r}" for key, value in self._values.items()
        )
        return f"{type(self).__name__}({args})"


def _copy(value: object) -> object:
    return list(value) if isinstance(value, list) else value


def parse_config(data: Mapping[str, Any], *, file: str | None = None) -> ProfileConfig:
    """The `ProfileConfig` of a config mapping, or `ConfigError` listing every `Problem` (none holds a
    secret): the same problems as `planet_profiles._models.parse_config`, without pydantic.

    `file` names the source in problems (default `<config>`, e.g. for `planet_auth_utils` custom configs).
    """
    where = file or "<config>"
    if not isinstance(data, Mapping):
        raise ConfigError.from_problems(
            [Problem(where, "", f"a profile must be a JSON object; got {describe(data)}")]
        )
    problems = type_problems(data, where)
    if problems:
        raise ConfigError.from_problems(sort_problems(problems)) from None
    return ProfileConfig(_spec(data["client_type"]), data)


class SecretValue(Protocol):
    """A secret config value: `Secret` here, pydantic's `SecretStr` in the models."""

    def get_secret_value(self) -> str: ...


def secret_value(value: SecretValue | None) -> str | None:
    """The plain text of a secret config value, or None when unset."""
    return None if value is None else value.get_secret_value()


class ClientConfig(Protocol):
    """Every profile config."""

    @property
    def client_type(self) -> str: ...
    @property
    def secret_keys(self) -> tuple[str, ...]: ...
    def to_dict(self, *, reveal_secrets: bool = False, exclude_unset: bool = False) -> dict[str, Any]: ...
