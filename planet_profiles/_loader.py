"""Stage "load": find → read → decrypt (in memory) → validate → client → ready context.

`open_profile` is what services call; `from_config` builds a context from an in-memory dict (the seed's
`initialize_auth_client_context_from_custom_config`).
"""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _store
from ._clients import make_client
from ._context import AuthContext
from ._errors import ConfigError, Problem, ProfileNotFoundError, StorageError
from ._session import TokenManager
from ._store import SECRET_KEYS
from ._tokens import FileTokenStore, MemoryTokenStore, Token, TokenStore

if TYPE_CHECKING:
    from ._sops import Sops

__all__ = ["from_config", "load_config", "open_profile", "read_document"]

log = logging.getLogger("planet_profiles.loader")


def read_document(file: Path, *, sops: Sops | None = None) -> dict[str, Any]:
    """The profile document of `file` as a dict; `*.sops.json` files are decrypted in memory."""
    name = str(file)
    if file.name.endswith(".sops.json"):
        from ._sops import default_sops

        return (sops or default_sops()).decrypt(file)
    try:
        raw = file.read_bytes()
        mode = file.stat().st_mode
    except FileNotFoundError:
        raise StorageError("file not found", file=name) from None
    except OSError as exc:
        raise StorageError(f"cannot read: {exc.strerror}", file=name) from None
    if not raw.strip():
        raise ConfigError.from_problems(
            [Problem(name, "", "the file is empty: a profile is a JSON object with at least `client_type`")]
        )
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = (
            f"line {exc.lineno} column {exc.colno}: {exc.msg}"
            if isinstance(exc, json.JSONDecodeError)
            else "not UTF-8"
        )
        raise ConfigError.from_problems([Problem(name, "", f"invalid JSON at {where}")]) from None
    if isinstance(data, dict):
        _check_plaintext_secrets(file, data, mode)
    return data  # type: ignore[no-any-return]


def _check_plaintext_secrets(file: Path, data: Mapping[str, Any], mode: int) -> None:
    present = [key for key in SECRET_KEYS if key in data]
    if not present:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise StorageError(
            f"plaintext secret `{present[0]}` in a file readable by others (mode {stat.S_IMODE(mode):04o})",
            file=str(file),
            key=present[0],
            hint=f"Run `chmod 600 {file}`; better, encrypt it: `planet-profiles encrypt {file}`",
        )
    log.warning("%s holds plaintext secret(s) %s: encrypt them with `planet-profiles encrypt`", file, present)


def load_config(file: Path, *, sops: Sops | None = None) -> Any:
    """Read, decrypt and validate one profile file into its typed config model."""
    from ._models import parse_config

    return parse_config(read_document(file, sops=sops), file=str(file))


def _token_store(name: str, *, save_token_file: bool, initial: Token | None = None) -> TokenStore:
    if not save_token_file:
        return MemoryTokenStore(initial)
    return FileTokenStore(_store.token_path(name))


def open_profile(
    name: str | None = None,
    *,
    save_token_file: bool = True,
    sops: Sops | None = None,
) -> AuthContext:
    """Select (see `_store.select_profile`), find, load and wrap a profile in an `AuthContext`."""
    from ._builtins import builtin_config

    selection = _store.select_profile(name)
    builtin = builtin_config(selection.name)
    location = None
    try:
        location = _store.find_profile(selection.name, source=selection.source)
    except ProfileNotFoundError:
        if builtin is None:
            raise
    if location is not None:
        config = load_config(location.file, sops=sops)
        file: str | None = str(location.file)
    else:
        from ._models import parse_config

        config = parse_config(builtin or {}, file=f"<built-in profile {selection.name}>")
        file = None
    client = make_client(config, file=file)
    manager = None
    if client.uses_tokens:
        manager = TokenManager(client, _token_store(selection.name, save_token_file=save_token_file))
    return AuthContext(
        client=client, manager=manager, profile_name=selection.name, location=location, selection=selection
    )


def from_config(
    client_config: Mapping[str, Any],
    *,
    profile_name: str,
    initial_token_data: Mapping[str, Any] | None = None,
    save_token_file: bool = True,
    save_profile_config: bool = False,
    sops: Sops | None = None,
) -> AuthContext:
    """An `AuthContext` for an in-memory profile dict (optionally saved to `~/.planet/<name>/`)."""
    from ._models import parse_config

    _store.check_profile_name(profile_name, source="profile_name")
    source = f"<in-memory profile {profile_name}>"
    config = parse_config(client_config, file=source)
    if save_profile_config:
        _store.save_profile(profile_name, config, sops=sops)
    client = make_client(config, file=source)
    manager = None
    if client.uses_tokens:
        initial = Token(initial_token_data, file="initial_token_data") if initial_token_data else None
        manager = TokenManager(
            client, _token_store(profile_name, save_token_file=save_token_file, initial=initial)
        )
        if initial is not None and save_token_file:
            manager.set(initial)
    return AuthContext(client=client, manager=manager, profile_name=profile_name)
