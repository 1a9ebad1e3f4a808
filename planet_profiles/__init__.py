"""planet-profiles: declarative, reviewable, SOPS-encrypted OAuth auth-client profiles.

The pipeline: validate (`validate_file`) → store encrypted (`Sops`) → load (`open_profile`) → authenticate
requests (`AuthContext.request_authenticator()`). Names are imported lazily, so `import planet_profiles`
costs almost nothing and pulls in no HTTP, schema or crypto library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_ERRORS = "._errors"
_WHERE: dict[str, str] = {
    "AccessDeniedError": _ERRORS,
    "AuthClient": "._clients",
    "AuthContext": "._context",
    "AuthError": _ERRORS,
    "CLIENT_TYPES": "._models",
    "ConfigError": _ERRORS,
    "DiscoveryError": _ERRORS,
    "ExpiredTokenError": _ERRORS,
    "InvalidGrantError": _ERRORS,
    "LoginRequiredError": _ERRORS,
    "MultiIssuerValidator": "._token_validation",
    "OAuthError": _ERRORS,
    "Problem": _ERRORS,
    "ProfileError": _ERRORS,
    "ProfileLocation": "._locations",
    "ProfileNameError": _ERRORS,
    "ProfileNotFoundError": _ERRORS,
    "RequestAuthenticator": "._authenticator",
    "ENCRYPTED_REGEX": "._names",
    "SECRET_KEYS": "._names",
    "Sops": "._sops",
    "SopsError": _ERRORS,
    "SopsFileMissingError": _ERRORS,
    "SopsMacMismatchError": _ERRORS,
    "SopsNoKeyError": _ERRORS,
    "SopsNotEncryptedError": _ERRORS,
    "SopsNotFoundError": _ERRORS,
    "SopsTamperedError": _ERRORS,
    "SopsTimeoutError": _ERRORS,
    "StorageError": _ERRORS,
    "Token": "._tokens",
    "TokenFileError": _ERRORS,
    "TokenValidator": "._token_validation",
    "TransportError": _ERRORS,
    "UnsupportedOperationError": _ERRORS,
    "find_profile": "._locations",
    "from_config": "._loader",
    "list_profiles": "._locations",
    "load_config": "._loader",
    "open_profile": "._loader",
    "parse_config": "._models",
    "planet_sdk_auth": "._planet_sdk",
    "explain_selection": "._selection",
    "resolve_source": "._selection",
    "validate_document": "._validate",
    "validate_file": "._validate",
}

__all__ = [
    "AccessDeniedError",
    "AuthClient",
    "AuthContext",
    "AuthError",
    "CLIENT_TYPES",
    "ConfigError",
    "DiscoveryError",
    "ENCRYPTED_REGEX",
    "ExpiredTokenError",
    "InvalidGrantError",
    "LoginRequiredError",
    "MultiIssuerValidator",
    "OAuthError",
    "Problem",
    "ProfileError",
    "ProfileLocation",
    "ProfileNameError",
    "ProfileNotFoundError",
    "RequestAuthenticator",
    "SECRET_KEYS",
    "Sops",
    "SopsError",
    "SopsFileMissingError",
    "SopsMacMismatchError",
    "SopsNoKeyError",
    "SopsNotEncryptedError",
    "SopsNotFoundError",
    "SopsTamperedError",
    "SopsTimeoutError",
    "StorageError",
    "Token",
    "TokenFileError",
    "TokenValidator",
    "TransportError",
    "UnsupportedOperationError",
    "explain_selection",
    "find_profile",
    "from_config",
    "list_profiles",
    "load_config",
    "open_profile",
    "parse_config",
    "planet_sdk_auth",
    "resolve_source",
    "validate_document",
    "validate_file",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'planet_profiles' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names and the module's dunders, not the helpers of this file (`importlib`, `Any`, …)."""
    return sorted({name for name in globals() if name.startswith("__")} | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from ._authenticator import RequestAuthenticator
    from ._clients import AuthClient
    from ._context import AuthContext
    from ._errors import (
        AccessDeniedError,
        AuthError,
        ConfigError,
        DiscoveryError,
        ExpiredTokenError,
        InvalidGrantError,
        LoginRequiredError,
        OAuthError,
        Problem,
        ProfileError,
        ProfileNameError,
        ProfileNotFoundError,
        SopsError,
        SopsFileMissingError,
        SopsMacMismatchError,
        SopsNoKeyError,
        SopsNotEncryptedError,
        SopsNotFoundError,
        SopsTamperedError,
        SopsTimeoutError,
        StorageError,
        TokenFileError,
        TransportError,
        UnsupportedOperationError,
    )
    from ._loader import from_config, load_config, open_profile
    from ._locations import ProfileLocation, find_profile, list_profiles
    from ._models import CLIENT_TYPES, parse_config
    from ._names import ENCRYPTED_REGEX, SECRET_KEYS
    from ._planet_sdk import planet_sdk_auth
    from ._selection import explain_selection, resolve_source
    from ._sops import Sops
    from ._token_validation import MultiIssuerValidator, TokenValidator
    from ._tokens import Token
    from ._validate import validate_document, validate_file
