"""Stage "find": where profiles and tokens live on disk, and which profile is selected.

A profile is a directory named after the profile holding `auth_client.sops.json` (preferred) or
`auth_client.json`. Directories are searched in order: `~/.planet`, then each entry of
`PL_AUTH_PROFILE_PATH` (`os.pathsep`-separated, e.g. a read-only checkout of a team repo's `profiles/`).
Tokens always live under `~/.planet/<name>/`, never in a profile repo checkout.

Selection precedence, highest first (`explain_selection` reports which one won):

1. an explicit name (function argument / CLI option),
2. the `PL_AUTH_PROFILE` environment variable,
3. the `PL_AUTH_PROFILE` key of `~/.planet.json`,
4. the built-in default (`none` unless a built-in provider names another).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._atomic import atomic_write, ensure_private_dir
from ._errors import ProfileNameError, ProfileNotFoundError, StorageError

if TYPE_CHECKING:
    from ._sops import Sops

__all__ = [
    "ENCRYPTED_FILE",
    "PLAIN_FILE",
    "ProfileLocation",
    "Selection",
    "check_profile_name",
    "find_profile",
    "list_profiles",
    "read_user_config",
    "save_profile",
    "search_path",
    "select_profile",
    "token_path",
    "user_config_path",
    "user_profiles_dir",
]

ENCRYPTED_FILE = "auth_client.sops.json"
PLAIN_FILE = "auth_client.json"
SECRET_KEYS = ("client_secret", "client_privkey", "client_privkey_password", "password", "api_key")
ENV_PROFILE = "PL_AUTH_PROFILE"
ENV_PROFILE_PATH = "PL_AUTH_PROFILE_PATH"
BUILTIN_DEFAULT_PROFILE = "none"

_NAME_RE = re.compile(r"[a-z0-9_][a-z0-9._-]*\Z")


@dataclass(frozen=True)
class ProfileLocation:
    """A profile found on disk: its `file`, the search-path `root` it came from, and that root's origin."""

    name: str
    file: Path
    root: Path
    origin: str  # "~/.planet" or "PL_AUTH_PROFILE_PATH"

    @property
    def encrypted(self) -> bool:
        return self.file.name == ENCRYPTED_FILE


@dataclass(frozen=True)
class Selection:
    """Which profile name was selected, and by which source (`argument`, `PL_AUTH_PROFILE`, …)."""

    name: str
    source: str


def user_profiles_dir() -> Path:
    """`~/.planet`: the user's own profiles and every profile's tokens."""
    return Path.home() / ".planet"


def user_config_path() -> Path:
    """`~/.planet.json`: planet-auth's user config file (selected profile, ad-hoc client settings)."""
    return Path.home() / ".planet.json"


def check_profile_name(name: object, *, source: str | None = None) -> str:
    """Return `name` if it is a plain profile name, else raise `ProfileNameError`.

    Allowed: lower-case letters, digits, `-`, `_`, `.`; not starting with `.` or `-`. Never a path, so a name
    cannot escape `~/.planet` (planet-auth accepts `..`).
    """
    if not isinstance(name, str) or not _NAME_RE.match(name):
        shown = name if isinstance(name, str) and len(name) <= 80 else type(name).__name__
        raise ProfileNameError(
            f"invalid profile name {shown!r}",
            key=source,
            hint="Use lower-case letters, digits, '-', '_', '.', not starting with '.' or '-' (no '/', '..')",
        )
    return name


def search_path() -> list[tuple[Path, str]]:
    """The profile directories to search, in order, each with the name of its origin."""
    roots = [(user_profiles_dir(), "~/.planet")]
    for entry in os.environ.get(ENV_PROFILE_PATH, "").split(os.pathsep):
        if entry.strip():
            roots.append((Path(entry).expanduser(), ENV_PROFILE_PATH))
    return roots


def _profile_in(root: Path, name: str, origin: str) -> ProfileLocation | None:
    for filename in (ENCRYPTED_FILE, PLAIN_FILE):
        candidate = root / name / filename
        if candidate.is_file():
            return ProfileLocation(name=name, file=candidate, root=root, origin=origin)
    return None


def find_profile(name: str, *, source: str | None = None) -> ProfileLocation:
    """Find profile `name` on the search path (first hit wins), or raise `ProfileNotFoundError`."""
    check_profile_name(name, source=source)
    roots = search_path()
    for root, origin in roots:
        found = _profile_in(root, name, origin)
        if found is not None:
            return found
    looked = ", ".join(str(root / name) for root, _ in roots)
    raise ProfileNotFoundError(
        f"no profile named {name!r} (looked in {looked})",
        key=source,
        hint=f"Create it with `planet-profiles new`, or add its parent directory to {ENV_PROFILE_PATH}",
    )


def list_profiles() -> list[ProfileLocation]:
    """Every profile on the search path, first occurrence of each name only, sorted by name."""
    seen: dict[str, ProfileLocation] = {}
    for root, origin in search_path():
        if not root.is_dir():
            continue
        for child in sorted(root.iterdir()):
            if child.name in seen or not _NAME_RE.match(child.name):
                continue
            found = _profile_in(root, child.name, origin)
            if found is not None:
                seen[child.name] = found
    return [seen[name] for name in sorted(seen)]


def read_user_config() -> dict[str, Any]:
    """Read `~/.planet.json` (an empty dict when absent); a broken file is a `StorageError`."""
    path = user_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise StorageError(f"cannot read: {exc.strerror}", file=str(path)) from None
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise StorageError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            file=str(path),
            hint="Fix the JSON or delete the file",
        ) from None
    if not isinstance(data, dict):
        raise StorageError("must hold a JSON object", file=str(path), hint="Fix the file or delete it")
    return data


def select_profile(explicit: str | None = None, *, default: str = BUILTIN_DEFAULT_PROFILE) -> Selection:
    """Apply the selection precedence (see the module docstring) and check the winning name."""
    if explicit:
        return Selection(check_profile_name(explicit, source="argument"), "argument")
    env_value = os.environ.get(ENV_PROFILE)
    if env_value:
        return Selection(check_profile_name(env_value, source=ENV_PROFILE), ENV_PROFILE)
    config_value = read_user_config().get(ENV_PROFILE)
    if config_value:
        where = f"{user_config_path()}:{ENV_PROFILE}"
        return Selection(check_profile_name(config_value, source=where), "~/.planet.json")
    return Selection(default, "built-in default")


def token_path(name: str, *, encrypted: bool = False) -> Path:
    """`~/.planet/<name>/token.json` (or `token.sops.json` when tokens are kept encrypted at rest)."""
    check_profile_name(name)
    return user_profiles_dir() / name / ("token.sops.json" if encrypted else "token.json")


def save_profile(name: str, config: Any, *, sops: Sops | None = None) -> Path:
    """Write a config model to `~/.planet/<name>/`: `auth_client.json` when it holds no secret, else
    `auth_client.sops.json` encrypted from memory by sops (recipients from the `.sops.yaml` found from that
    directory upwards, or `SOPS_AGE_RECIPIENTS`). Returns the file written."""
    check_profile_name(name)
    document = config.to_dict(reveal_secrets=True)
    directory = user_profiles_dir() / name
    ensure_private_dir(directory)
    if any(key in document for key in SECRET_KEYS):
        from ._sops import default_sops

        target = directory / ENCRYPTED_FILE
        (sops or default_sops()).encrypt(document, target)
        return target
    target = directory / PLAIN_FILE
    atomic_write(target, json.dumps(document, indent=2).encode() + b"\n", mode=0o600)
    return target
