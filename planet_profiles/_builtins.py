"""Built-in profiles: configs that exist without a file on disk.

`none` is always built in. An application can add its own (e.g. its company's auth server) with a provider:
a class named by `PL_AUTH_BUILTIN_CONFIG_PROVIDER` (`package.module.Class`, as in planet-auth), else the first
entry point of the group `planet_profiles.builtins`. A provider has the methods of planet-auth's
`BuiltinConfigurationProviderInterface`; all but the first are optional:

- `builtin_client_authclient_config_dicts() -> dict[name, config dict]`
- `builtin_client_profile_aliases() -> dict[alias, name]`
- `builtin_default_profile_by_client_type() -> dict[client_type, name]`
- `builtin_default_profile() -> name`

A profile on disk with the same name wins over a built-in one. A provider that cannot be loaded is an
error (the variable is security-sensitive: it decides where credentials are sent).
"""

from __future__ import annotations

import functools
import importlib
import os
from typing import Any

from ._errors import ProfileError

__all__ = [
    "PROVIDER_ENV",
    "builtin_config",
    "canonical_name",
    "builtin_names",
    "default_for_client_type",
    "default_profile_name",
]

PROVIDER_ENV = "PL_AUTH_BUILTIN_CONFIG_PROVIDER"
ENTRY_POINT_GROUP = "planet_profiles.builtins"
_NONE = {"none": {"client_type": "none"}}


def _provider() -> Any:
    return _load_provider(os.environ.get(PROVIDER_ENV, "").strip())


@functools.lru_cache(maxsize=8)
def _load_provider(spec: str) -> Any:
    """The provider instance for `spec` (or the entry point when empty), loaded once per process."""
    if spec:
        module_name, _, class_name = spec.replace(":", ".").rpartition(".")
        if not module_name or not class_name or module_name.startswith("."):
            raise ProfileError(f"{spec!r} is not `package.module.Class`", key=PROVIDER_ENV)
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            raise ProfileError(
                f"cannot load the built-in profile provider {spec!r}: {exc}",
                key=PROVIDER_ENV,
                hint="Set it to `package.module.Class` of an importable provider, or unset it",
            ) from None
        try:
            return cls()
        except Exception as exc:  # noqa: BLE001 - application code: any failure means a bad setting
            raise ProfileError(
                f"cannot create the built-in profile provider {spec!r}: {type(exc).__name__}",
                key=PROVIDER_ENV,
                hint="Name a provider class whose constructor takes no arguments, or unset it",
            ) from None
    from importlib.metadata import entry_points

    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)
    return found[0].load()() if found else None


def _call(provider: Any, method: str) -> Any:
    function = getattr(provider, method, None)
    return function() if callable(function) else None


def _configs(provider: Any) -> dict[str, dict[str, object]]:
    configs = dict(_call(provider, "builtin_client_authclient_config_dicts") or {}) if provider else {}
    return {**configs, **_NONE}


def builtin_names() -> list[str]:
    """The names of all built-in profiles (aliases included)."""
    provider = _provider()
    aliases = (_call(provider, "builtin_client_profile_aliases") or {}) if provider else {}
    return sorted(set(_configs(provider)) | set(aliases))


def builtin_config(name: str) -> dict[str, object] | None:
    """The config dict of built-in profile `name` (aliases resolved), or None."""
    provider = _provider()
    aliases = (_call(provider, "builtin_client_profile_aliases") or {}) if provider else {}
    config = _configs(provider).get(aliases.get(name, name))
    return dict(config) if config is not None else None


def canonical_name(name: str) -> str:
    """`name`, or the built-in profile it is an alias of (as planet-auth names the context)."""
    provider = _provider()
    aliases = (_call(provider, "builtin_client_profile_aliases") or {}) if provider else {}
    seen = {name}
    while name in aliases and aliases[name] not in seen:
        name = str(aliases[name])
        seen.add(name)
    return name


def default_profile_name() -> str:
    """The provider's default profile, else `none`."""
    provider = _provider()
    return str((_call(provider, "builtin_default_profile") if provider else None) or "none")


def default_for_client_type(client_type: str) -> tuple[str, dict[str, object]] | None:
    """Name and config of the built-in profile a provider names as default for `client_type` (used for
    ad-hoc credentials), or None."""
    provider = _provider()
    names = (_call(provider, "builtin_default_profile_by_client_type") or {}) if provider else {}
    config = builtin_config(names[client_type]) if client_type in names else None
    return (str(names[client_type]), config) if config is not None else None
