"""Names other tools and users depend on: profile file names, the secret keys, sops' `encrypted_regex`, the
endpoint keys. Defined once here; every stage imports them. Also the two class helpers every stage uses:
`public` (a class's public path) and `Record` (the stages' small value types)."""

from __future__ import annotations

import builtins
import os
import re
import sys
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

_T = TypeVar("_T", bound=type)

if TYPE_CHECKING:
    from typing_extensions import Self, dataclass_transform
elif sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # Python 3.10: the decorator only informs type checkers

    def dataclass_transform(**_: object) -> Callable[[_T], _T]:
        return lambda cls: cls


__all__ = [
    "CACHE_URL_ENV",
    "ENCRYPTED_FILE",
    "ENCRYPTED_REGEX",
    "ENCRYPTED_SUFFIX",
    "ENDPOINT_KEYS",
    "PLAIN_FILE",
    "Record",
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
    for name, source in annotations.items():
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


@dataclass_transform(frozen_default=True)
class Record(tuple[Any, ...]):
    """A named tuple, declared like one (`class Name(Record):`, `__slots__ = ()`, annotated fields, defaults
    last), that costs what a plain class costs to define: `typing.NamedTuple` compiles a `__new__` from source
    for each class (`eval`), about 0.1 ms of a cold start each, and a load imports ten of them.

    It behaves as a `NamedTuple` does: positional or keyword arguments, defaults, read-only fields, no
    instance `__dict__`, tuple equality, order, hashing and unpacking, `match` patterns, `_fields`,
    `_field_defaults`, `_make`, `_replace`, `_asdict`, pickling, and a repr naming the fields. Type checkers
    read the fields as those of a frozen dataclass (so unpacking a record is not typed field by field)."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _field_defaults: dict[str, Any] = {}
    _tail: tuple[Any, ...] = ()  # the defaults, in field order: those of the last len(_tail) fields

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "__slots__" not in cls.__dict__:
            raise TypeError(f"{cls.__name__}: a record class declares `__slots__ = ()`, as a NamedTuple has")
        names = tuple(cls.__annotations__)  # its own (Python 3.10+), strings or values, whatever the module
        if not names:
            return  # a subclass that adds methods only keeps its base's fields
        if cls._fields:
            raise TypeError(f"{cls.__name__}: a record's fields cannot be extended by a subclass")
        defaults: dict[str, Any] = {}
        for index, name in enumerate(names):
            if name in cls.__dict__:  # a default given in the class body
                defaults[name] = cls.__dict__[name]
            elif defaults:
                raise TypeError(f"{cls.__name__}: field {name!r} without a default after one with a default")
            setattr(cls, name, property(itemgetter(index), doc=f"Alias for field number {index}"))
        cls._fields, cls._field_defaults, cls._tail = names, defaults, tuple(defaults.values())
        setattr(cls, "__match_args__", names)  # noqa: B010 - type checkers take it from the dataclass view

    def __new__(cls, /, *args: Any, **kwargs: Any) -> Self:
        size, given = len(cls._fields), len(args)
        if not kwargs:
            if given == size:
                return tuple.__new__(cls, args)
            first_default = size - len(cls._tail)
            if first_default <= given < size:
                return tuple.__new__(cls, args + cls._tail[given - first_default :])
        return tuple.__new__(cls, cls._arrange(args, kwargs))

    @classmethod
    def _arrange(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        """The values of a call with keywords (defaults filled in) in field order, or its `TypeError`."""
        if len(args) > len(cls._fields):
            raise TypeError(f"{cls.__name__} takes {len(cls._fields)} arguments, got {len(args)}")
        values = list(args)
        for name in cls._fields[len(args) :]:
            if name in kwargs:
                values.append(kwargs.pop(name))
            elif name in cls._field_defaults:
                values.append(cls._field_defaults[name])
            else:
                raise TypeError(f"{cls.__name__} is missing the argument {name!r}")
        if kwargs:
            raise TypeError(f"{cls.__name__} got an unexpected or repeated argument {next(iter(kwargs))!r}")
        return tuple(values)

    @classmethod
    def _make(cls, iterable: Iterable[Any]) -> Self:
        values = tuple(iterable)
        if len(values) != len(cls._fields):
            raise TypeError(f"{cls.__name__}: expected {len(cls._fields)} values, got {len(values)}")
        return tuple.__new__(cls, values)

    def __getnewargs__(self) -> tuple[Any, ...]:
        return tuple(self)

    def _replace(self, /, **changes: Any) -> Self:
        unknown = changes.keys() - set(self._fields)
        if unknown:
            raise ValueError(f"Got unexpected field names: {sorted(unknown)!r}")
        return self._make(changes.get(name, value) for name, value in zip(self._fields, self, strict=True))

    def _asdict(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self, strict=True))
        return f"{type(self).__name__}({shown})"


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
