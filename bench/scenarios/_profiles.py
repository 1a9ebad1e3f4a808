"""The profiles the scenarios load, written into the workspace HOME (`~/.planet/<name>/`), in the on-disk
format both libraries read (planet-auth's `auth_client.json` / `token.json` with `_iat`/`_exp`)."""

from __future__ import annotations

import time
from typing import Any

from _harness import Workspace

PLAIN = "bench-plain"  # oidc_auth_code, plaintext, valid saved token
SOPS = "bench-sops"  # oidc_auth_code_secret, auth_client.sops.json, valid saved token.sops.json
SECRET_REGEX = "^(client_secret|client_privkey|client_privkey_password|password|api_key)$"
TOKEN_REGEX = "^(access_token|refresh_token|id_token|key|jwt)$"
ISSUER = "http://127.0.0.1:9"  # never contacted: every token is valid for hours


def valid_token(hours: int = 10) -> dict[str, Any]:
    now = int(time.time())
    return {
        "token_type": "Bearer",
        "access_token": "bench-access-token-" + "a" * 40,
        "refresh_token": "bench-refresh-token-" + "r" * 40,
        "expires_in": hours * 3600,
        "scope": "openid offline_access",
        "_iat": now,
        "_exp": now + hours * 3600,
    }


def auth_code_config(**extra: Any) -> dict[str, Any]:
    return {
        "client_type": "oidc_auth_code",
        "auth_server": ISSUER,
        "client_id": "native-public",
        "scopes": ["openid", "offline_access"],
        "local_redirect_uri": "http://127.0.0.1:8080/callback",
        **extra,
    }


def plain_profile(ws: Workspace) -> str:
    directory = ws.profile_dir(PLAIN)
    if not (directory / "auth_client.json").exists():
        ws.write_json(directory / "auth_client.json", auth_code_config())
        ws.write_json(directory / "token.json", valid_token())
    return PLAIN


def sops_profile(ws: Workspace, name: str = SOPS) -> str:
    """An encrypted profile with its token encrypted too (`token.sops.json`: both libraries read it)."""
    directory = ws.profile_dir(name)
    if not (directory / "auth_client.sops.json").exists():
        config = {
            **auth_code_config(client_id="auth-code-secret"),
            "client_type": "oidc_auth_code_secret",
            "client_secret": "auth-code-secret-secret-value",
        }
        ws.encrypt(config, directory / "auth_client.sops.json", SECRET_REGEX)
        ws.encrypt(valid_token(), directory / "token.sops.json", TOKEN_REGEX)
    return name
