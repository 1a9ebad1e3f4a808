"""Stage "load": find → read → decrypt (in memory) → validate → client → ready context.

`open_profile` is what services call; `from_config` builds a context from an in-memory dict (the seed's
`initialize_auth_client_context_from_custom_config`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from . import _locations
from ._clients import AuthClient, OidcAuthClient, make_client
from ._config import ProfileConfig, parse_config
from ._context import AuthContext
from ._documents import SHARED_MODES_ENV, Document, exposed, load_profile
from ._errors import StorageError
from ._names import CACHE_URL_ENV, SECRET_KEYS, is_encrypted_name
from ._selection import Source, locate, resolve_source
from ._token_manager import TokenManager
from ._tokens import Token, TokenStore, token_store

if TYPE_CHECKING:
    from ._sops import Sops

__all__ = ["from_config", "load_config", "open_profile"]

log = logging.getLogger("planet_profiles.loader")


def _read(file: Path, sops: Sops | None) -> tuple[Document, dict[str, object]]:
    """The file as stored (read and checked by `planet_profiles._documents`, as the CLI and the hooks read it)
    and its profile document: `*.sops.json` files are decrypted in memory."""
    doc = load_profile(file)
    assert doc.raw is not None and doc.mode is not None
    if is_encrypted_name(file):
        from ._sops import default_sops

        # sops decrypts the very bytes that were checked, not whatever the path names a moment later
        return doc, (sops or default_sops()).decrypt_bytes(doc.raw, filename_hint=str(file))
    data: dict[str, object] = doc.data
    _check_plaintext_secrets(file, data, doc.mode)
    return doc, data


_VALIDATED: dict[tuple[str, bytes], ProfileConfig] = {}
"""The configs of plaintext profile files by (file, SHA-256 of the bytes read), so a service that opens the
same unchanged profile again and again skips the schema check of bytes it checked before (the file is still
read and its modes checked every time, and a changed byte is a new key; the digest, not a second copy of the
bytes, is kept). A `ProfileConfig` is immutable. Emptied when it holds `_VALIDATED_MAX` (a process opens a
few profiles, not dozens)."""
_VALIDATED_MAX = 32


def load_config(file: Path, *, sops: Sops | None = None) -> ProfileConfig:
    """Read, decrypt and validate one profile file into its `ProfileConfig` (no pydantic: `_config`)."""
    return _load(file, sops)[0]


def _load(file: Path, sops: Sops | None) -> tuple[ProfileConfig, Document]:
    """`load_config`, with the file as stored (for the loader's recipient check: read once)."""
    stored, data = _read(file, sops)
    key = None if is_encrypted_name(file) else (str(file), hashlib.sha256(stored.raw or b"").digest())
    config = _VALIDATED.get(key) if key is not None else None
    if config is None:
        config = parse_config(data, file=str(file))
        if key is not None:
            if len(_VALIDATED) >= _VALIDATED_MAX:
                _VALIDATED.clear()  # (one call: safe while other threads read and add)
            _VALIDATED[key] = config
    return config, stored


def _check_plaintext_secrets(file: Path, data: Mapping[str, object], mode: int) -> None:
    present = [key for key in SECRET_KEYS if key in data]
    if not present:
        return
    if exposed(mode):
        raise StorageError(
            f"plaintext secret `{present[0]}` in a file readable by others (mode {stat.S_IMODE(mode):04o})",
            file=str(file),
            key=present[0],
            hint=f"Run `chmod 600 {file}`; better, encrypt it: `planet-profiles encrypt {file}` (a file of a "
            f"Kubernetes Secret volume: set {SHARED_MODES_ENV}=1)",
        )
    log.warning("%s holds plaintext secret(s) %s: encrypt them with `planet-profiles encrypt`", file, present)


def open_profile(
    name: str | None = None,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    api_key: str | None = None,
    save_token_file: bool = True,
    use_env: bool = True,
    use_configfile: bool = True,
    sops: Sops | None = None,
    token_cache_url: str | None = None,
) -> AuthContext:
    """Select the credentials (`_selection.resolve_source`: argument > environment > `~/.planet.json` >
    built-in default), locate them (`_selection.locate`: a profile on disk, else built in), load them and
    wrap them in an `AuthContext`.

    `token_cache_url` (`redis://…`, `rediss://…`; `""`: none) shares tokens and their renewal across
    processes and hosts (`planet_profiles._token_cache`); default: `PL_AUTH_TOKEN_CACHE_URL`."""
    source = resolve_source(
        name,
        client_id=client_id,
        client_secret=client_secret,
        api_key=api_key,
        use_env=use_env,
        use_configfile=use_configfile,
    )
    located = locate(source)
    name, location = located.name, located.location
    if source.kind != "profile":  # ad-hoc credentials: an API key keeps no token file
        assert located.config is not None
        keep = save_token_file and source.kind != "api_key"
        return from_config(
            located.config,
            profile_name=name,
            save_token_file=keep,
            source=source,
            token_cache_url=token_cache_url,
        )
    if location is None:
        assert located.config is not None
        client = make_client(parse_config(located.config, file=f"<built-in profile {name}>"))
    else:
        config, stored = _load(location.file, sops)
        client = make_client(config, file=str(location.file))
        if location.encrypted:
            _warn_on_recipient_drift(location, stored.data)
    manager = None
    if client.uses_tokens:
        store = token_store(
            name,
            save_token_file=save_token_file,
            profile_file=location.file if location else None,
            sops=sops,
        )
        manager = _manager(client, store, name, token_cache_url)
    return AuthContext(client=client, manager=manager, profile_name=name, location=location, source=source)


def _warn_on_recipient_drift(location: _locations.ProfileLocation, stored: Mapping[str, object]) -> None:
    """A log warning (never an error: the profile did decrypt) when the recipients of an encrypted profile,
    as `stored`, differ from the `.sops.yaml` rule of the checkout it was found in: `.sops.yaml` is searched
    from the profile's directory up to the top of that git checkout, or up to the search-path root outside a
    checkout."""
    from ._sops_rules import SopsConfigs, checkout_top, recipient_problems

    configs = SopsConfigs(stop=checkout_top(location.root))
    for problem in recipient_problems(str(location.file), stored, configs):
        log.warning("%s", problem)


def _manager(client: AuthClient, store: TokenStore, name: str, token_cache_url: str | None) -> TokenManager:
    """The token manager of `client`, with the shared token cache when one is configured; a client with a
    shared secret remembers negotiated client authentication beside the token file
    (`_oauth.ClientAuthMemory`), or in memory when tokens are. `_token_cache` is imported only when a cache
    is configured."""
    if isinstance(client, OidcAuthClient) and client.client_auth_method == "client_secret":
        client.remember_client_auth_in(store.path.parent if store.path is not None else None)
    url = os.environ.get(CACHE_URL_ENV, "").strip() if token_cache_url is None else token_cache_url
    shared = None
    if url:
        from ._token_cache import shared_cache

        shared = shared_cache(client, name, url)
    return TokenManager(client, store, shared=shared, profile_name=name)


def from_config(
    client_config: Mapping[str, object],
    *,
    profile_name: str,
    initial_token_data: Mapping[str, object] | None = None,
    save_token_file: bool = True,
    save_profile_config: bool = False,
    sops: Sops | None = None,
    source: Source | None = None,
    token_cache_url: str | None = None,
) -> AuthContext:
    """An `AuthContext` for an in-memory profile dict (optionally saved to `~/.planet/<name>/`, the name in
    lower case, as planet-auth does; `profile_name()` says it as given). `token_cache_url`: as for
    `open_profile`."""
    _locations.check_profile_name(profile_name, source="profile_name")
    label = f"<in-memory profile {profile_name}>"
    config = parse_config(client_config, file=label)
    if save_profile_config:
        _locations.save_profile(profile_name, config, sops=sops)
    client = make_client(config, file=label)
    manager = None
    if client.uses_tokens:
        initial = Token(initial_token_data, file="initial_token_data") if initial_token_data else None
        store = token_store(profile_name, save_token_file=save_token_file, initial=initial)
        manager = _manager(client, store, profile_name, token_cache_url)
        if initial is not None and save_token_file:
            manager.set(initial)
    return AuthContext(
        client=client,
        manager=manager,
        profile_name=profile_name,
        source=source or Source("config", "argument"),
    )
