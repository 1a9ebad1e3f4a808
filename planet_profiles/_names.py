"""Names other tools and users depend on: profile file names, the secret keys, sops' `encrypted_regex`, the
endpoint keys. Defined once here; every stage imports them."""

from __future__ import annotations

import builtins
import os
import re
import sys
from typing import ForwardRef, Literal, TypeVar, get_args

_T = TypeVar("_T", bound=type)

__all__ = [
    "CACHE_URL_ENV",
    "ENCRYPTED_FILE",
    "ENCRYPTED_REGEX",
    "ENCRYPTED_SUFFIX",
    "ENDPOINT_KEYS",
    "PLAIN_FILE",
    "PROFILE_FILE_REGEX",
    "REDACTED",
    "SECRET_KEYS",
    "TYP_CHECKS",
    "EndpointKey",
    "TypCheck",
    "env_flag",
    "is_encrypted_name",
    "is_profile_file",
    "login_command",
    "public",
]


def public(cls: _T) -> _T:
    """Name a class by its public path: `planet_profiles.ProfileNotFoundError` in tracebacks, reprs and
    pickles, not the private module that defines it (pickle finds it by `planet_profiles.__getattr__`).

    `typing.get_type_hints` resolves a class's string annotations in the module `__module__` names, which is
    no longer the defining one: they are resolved here first, in the defining module (those naming
    `TYPE_CHECKING`-only imports stay strings, unresolvable as before)."""
    namespace = vars(sys.modules[cls.__module__])
    annotations = cls.__dict__.get("__annotations__", {})
    for name, value in annotations.items():
        source = value.__forward_arg__ if isinstance(value, ForwardRef) else value  # NamedTuple's
        if isinstance(source, str):
            try:
                annotations[name] = _evaluate(source, namespace)
            except Exception:  # noqa: BLE001, S112 - a TYPE_CHECKING-only name: left as it was
                continue
    cls.__module__ = "planet_profiles"
    return cls


def _evaluate(source: str, namespace: dict[str, object]) -> object:
    """An annotation's value: a plain name is looked up (this runs at import: no compile), else evaluated."""
    if source.isidentifier():
        if source in namespace:
            return namespace[source]
        if hasattr(builtins, source):
            return getattr(builtins, source)
    return eval(source, namespace)  # noqa: S307 - our own source's annotations


CACHE_URL_ENV = "PL_AUTH_TOKEN_CACHE_URL"
"""The setting of the shared token cache (`planet_profiles._token_cache`): read by the loader, which imports
that module only when a cache is configured."""


ENCRYPTED_FILE = "auth_client.sops.json"
PLAIN_FILE = "auth_client.json"
ENCRYPTED_SUFFIX = ".sops.json"
"""How a file's name says it is sops-encrypted (profiles and token files alike)."""

REDACTED = "**********"
"""What every output shows in place of a secret value."""


PROFILE_FILE_REGEX = r"(^|/)auth_client(\.sops)?\.json$"
"""The paths of profile files: the `files:` regex of both pre-commit hooks (`.pre-commit-hooks.yaml`, the
profile-repo template's `.pre-commit-config.yaml`; a test keeps them equal to this) and what `validate`
looks for in a directory. Not `auth_client*.json`: `schema/auth_client.schema.json` is no profile."""


def is_profile_file(path: str | os.PathLike[str]) -> bool:
    """Whether a path names a profile file (`PROFILE_FILE_REGEX`)."""
    return re.search(PROFILE_FILE_REGEX, os.fspath(path).replace(os.sep, "/")) is not None


def is_encrypted_name(path: str | os.PathLike[str]) -> bool:
    """Whether a file's name says it is sops-encrypted: `*.sops.json`."""
    return os.fspath(path).endswith(ENCRYPTED_SUFFIX)


def env_flag(name: str) -> bool:
    """Whether the environment variable `name` is set to `1`, `true` or `yes` (any case): the opt-ins
    `PL_AUTH_ALLOW_SHARED_MODES`, `PL_AUTH_PLAINTEXT_TOKENS`, `PL_AUTH_TOKEN_CACHE_PLAINTEXT`."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def login_command(file: str | None) -> str:
    """`planet-profiles login <name>` for the profile file `file` (a profile is the directory named after
    it, `~/.planet/<name>/auth_client.json`), for hints; `NAME` stands in for profiles not on disk."""
    if file and is_profile_file(file):
        return f"planet-profiles login {os.path.basename(os.path.dirname(file)) or 'NAME'}"
    return "planet-profiles login NAME"


SECRET_KEYS: tuple[str, ...] = (
    "client_secret",
    "client_privkey",
    "client_privkey_password",
    "password",
    "api_key",
)
"""Keys whose values are secrets: encrypted in `auth_client.sops.json`; never in plaintext files, messages,
`repr` or logs."""

ENCRYPTED_REGEX = "^(" + "|".join(SECRET_KEYS) + ")$"
"""The sops `encrypted_regex` of a profile: exactly the secret keys are encrypted, reviewers read the rest."""

EndpointKey = Literal[
    "token_endpoint",
    "authorization_endpoint",
    "device_authorization_endpoint",
    "introspection_endpoint",
    "revocation_endpoint",
    "userinfo_endpoint",
    "jwks_endpoint",
]
"""Profile keys that override an endpoint found by OIDC discovery."""

ENDPOINT_KEYS: tuple[EndpointKey, ...] = get_args(EndpointKey)

TypCheck = Literal["auto", "at+jwt", "any"]
"""How a token validator tells an access token from an ID token (`planet_profiles._token_validation`): the
`typ_check` key of `oidc_client_validator` profiles and the argument of `TokenValidator`."""

TYP_CHECKS: tuple[TypCheck, ...] = get_args(TypCheck)
