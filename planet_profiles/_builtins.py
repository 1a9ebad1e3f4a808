"""Built-in profiles: configs that exist without a file on disk.

Only `none` is built in; the built-in default profile is `none`, so a process with nothing configured sends
unauthenticated requests rather than guessing an auth server.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BUILTIN_PROFILES", "builtin_config"]

BUILTIN_PROFILES: dict[str, dict[str, Any]] = {"none": {"client_type": "none"}}


def builtin_config(name: str) -> dict[str, Any] | None:
    """The config dict of built-in profile `name`, or None."""
    config = BUILTIN_PROFILES.get(name)
    return dict(config) if config is not None else None
