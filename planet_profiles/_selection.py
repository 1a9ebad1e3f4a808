"""Stage "find": which credentials a process uses when it does not say exactly.

Sources are tried in this order, highest first; the first one that is set wins (as in planet-auth, but
documented, checked and explainable: `explain_selection()` lists every source and which one won):

| # | source | where it is read |
|---|---|---|
| 1 | profile name | argument (`open_profile("x")`, `auth_profile_opt=`, CLI `--profile`) |
| 2 | client id + secret (ad-hoc client credentials) | arguments |
| 3 | API key (ad-hoc static key) | argument |
| 4 | profile name | `PL_AUTH_PROFILE`, then the `PL_AUTH_PROFILE` key of `~/.planet.json` |
| 5 | client id + secret | `PL_AUTH_CLIENT_ID` + `PL_AUTH_CLIENT_SECRET`, then those of `~/.planet.json` |
| 6 | API key | `PL_API_KEY`, then the same key of `~/.planet.json`, then its `key` (the old SDK's) |
| 7 | the built-in default profile | a built-in provider's default, else `none` |

A selected source that is broken is an error, never a silent fall-back to the next one. Ad-hoc client
credentials take the auth server and scopes of the built-in `oidc_client_credentials_secret` profile
(`_builtins`); without one they are an error that says so.

`locate()` goes one step further for the loader and the CLI alike: the selected profile's file on the search
path (`_locations`), else its built-in config.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from . import _locations
from ._errors import ProfileError, ProfileNotFoundError
from ._locations import ProfileLocation
from ._names import Record

__all__ = [
    "ENV_API_KEY",
    "ENV_CLIENT_ID",
    "ENV_CLIENT_SECRET",
    "Located",
    "Source",
    "explain_selection",
    "locate",
    "resolve_source",
]

ENV_PROFILE = _locations.ENV_PROFILE
ENV_CLIENT_ID = "PL_AUTH_CLIENT_ID"
ENV_CLIENT_SECRET = "PL_AUTH_CLIENT_SECRET"  # noqa: S105 - a variable name
ENV_API_KEY = "PL_API_KEY"
OLD_SDK_KEY = "key"  # the old Planet SDK's API key in ~/.planet.json


class Source(Record):
    """The winning source: `kind` is `profile`, `client_credentials` or `api_key`; `origin` says where it
    was set (`argument`, an environment variable, `~/.planet.json`, `built-in default`). Secrets hide in
    `repr`."""

    __slots__ = ()

    kind: str
    origin: str
    profile: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_key: str | None = None

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={getattr(self, k)!r}" for k in ("kind", "origin", "profile", "client_id"))
        return f"Source({shown})"


def _user_config(use_configfile: bool) -> dict[str, object]:
    return _locations.read_user_config() if use_configfile else {}


def _from(name: str, use_env: bool, config: dict[str, object]) -> tuple[str | None, str]:
    """The value of setting `name` from the environment, else `~/.planet.json`, and where it came from."""
    if use_env and os.environ.get(name):
        return os.environ[name], name
    value = config.get(name)
    if value is not None and not isinstance(value, str):
        raise ProfileError(
            f"`{name}` must be a string",
            file=str(_locations.user_config_path()),
            key=name,
            hint="Fix ~/.planet.json",
        )
    return (value or None), "~/.planet.json"


def _candidates(
    profile: str | None,
    client_id: str | None,
    client_secret: str | None,
    api_key: str | None,
    use_env: bool,
    use_configfile: bool,
) -> Iterator[Source | None]:
    """Every source in precedence order (None where it is not set), each read only when asked for: the
    built-in default (an entry-point scan) is not looked up when an earlier source is set."""
    config = _user_config(use_configfile)
    yield Source("profile", "argument", profile=profile) if profile else None
    yield (
        Source("client_credentials", "argument", client_id=client_id, client_secret=client_secret)
        if client_id and client_secret
        else None
    )
    yield Source("api_key", "argument", api_key=api_key) if api_key else None
    name, origin = _from(ENV_PROFILE, use_env, config)
    yield Source("profile", origin, profile=name) if name else None
    cid, cid_origin = _from(ENV_CLIENT_ID, use_env, config)
    secret, _ = _from(ENV_CLIENT_SECRET, use_env, config)
    yield (
        Source("client_credentials", cid_origin, client_id=cid, client_secret=secret)
        if cid and secret
        else None
    )
    key, key_origin = _from(ENV_API_KEY, use_env, config)
    if not key:  # the old Planet SDK's `key` of ~/.planet.json, as planet-auth reads it
        key, key_origin = _from(OLD_SDK_KEY, False, config)
    yield Source("api_key", key_origin, api_key=key) if key else None
    from ._builtins import default_profile_name  # (a profile named by an argument or setting needs none)

    yield Source("profile", "built-in default", profile=default_profile_name())


def resolve_source(
    profile: str | None = None,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    api_key: str | None = None,
    use_env: bool = True,
    use_configfile: bool = True,
) -> Source:
    """The first set source in the precedence order of the module docstring; a profile name is checked."""
    for source in _candidates(profile, client_id, client_secret, api_key, use_env, use_configfile):
        if source is not None:
            if source.profile is not None:
                where = ENV_PROFILE if source.origin == "~/.planet.json" else source.origin
                name = _locations.check_profile_name(source.profile, source=where)
                source = source._replace(profile=name)
            return source
    raise AssertionError("the built-in default is always set")  # pragma: no cover


class Located(Record):
    """The selected credentials and where they are: the winning `source`, the profile `name` (what
    `AuthContext.profile_name()` says), and either the profile's `location` on disk or, for a profile without
    a file, its `config` dict: a built-in profile, or one made from ad-hoc credentials (`source.kind`
    `client_credentials` or `api_key`; the dict then holds the secret, never shown in `repr`)."""

    __slots__ = ()

    source: Source
    name: str
    location: ProfileLocation | None = None
    config: dict[str, object] | None = None

    def __repr__(self) -> str:
        return f"Located(source={self.source!r}, name={self.name!r}, location={self.location!r})"


def locate(source: Source, *, builtins: bool = True) -> Located:
    """Where the credentials of `source` (from `resolve_source`) are: a profile on the search path, else a
    built-in one (an alias is named after the profile it stands for, as in planet-auth), or the config made
    from ad-hoc credentials. `ProfileNotFoundError` when neither has the profile (with `builtins=False`: when
    it is not on disk). Reads no profile file, decrypts nothing."""
    if source.kind == "api_key":
        config: dict[str, object] = {
            "client_type": "static_apikey",
            "api_key": source.api_key,
            "bearer_token_prefix": "api-key",
        }
        return Located(source, "_PL_API_KEY", config=config)
    if source.kind == "client_credentials":
        from ._builtins import default_for_client_type

        base = default_for_client_type("oidc_client_credentials_secret")
        if base is None:
            raise ProfileError(
                "ad-hoc client credentials need a built-in `oidc_client_credentials_secret` profile "
                "to name the auth server, and there is none",
                key=ENV_CLIENT_ID if source.origin != "argument" else "client_id",
                hint="Create a profile (`planet-profiles new`) and select it with PL_AUTH_PROFILE instead",
            )
        base_name, base_config = base
        config = {**base_config, "client_id": source.client_id, "client_secret": source.client_secret}
        return Located(source, f"{base_name}-{source.client_id}", config=config)
    assert source.profile is not None
    try:
        location = _locations.find_profile(source.profile, source=source.origin)
    except ProfileNotFoundError:
        from ._builtins import builtin_config, canonical_name

        builtin = builtin_config(source.profile) if builtins else None
        if builtin is None:
            raise
        return Located(source, canonical_name(source.profile), config=builtin)
    return Located(source, source.profile, location)


_LABELS = (
    "profile argument",
    "client id + secret arguments",
    "API key argument",
    f"{ENV_PROFILE} (env, then ~/.planet.json)",
    f"{ENV_CLIENT_ID} + {ENV_CLIENT_SECRET} (env, then ~/.planet.json)",
    f"{ENV_API_KEY} (env, then ~/.planet.json)",
    "built-in default profile",
)


def explain_selection(
    profile: str | None = None, *, use_env: bool = True, use_configfile: bool = True
) -> list[dict[str, Any]]:
    """Every source in precedence order: `rank`, `source`, `set`, `selected`, `value` (secrets redacted)."""
    rows = list(_candidates(profile, None, None, None, use_env, use_configfile))
    winner = next(i for i, row in enumerate(rows) if row is not None)
    explained = []
    for rank, (label, row) in enumerate(zip(_LABELS, rows, strict=True), start=1):
        value = None
        if row is not None:
            value = row.profile or (f"client_id={row.client_id}" if row.client_id else "api_key=***")
        explained.append(
            {
                "rank": rank,
                "source": label,
                "set": row is not None,
                "selected": rank - 1 == winner,
                "origin": row.origin if row else None,
                "value": value,
            }
        )
    return explained
