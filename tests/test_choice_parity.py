"""The same choice of credentials as planet-auth 2.3.2 (issue 10): a differential test of
`initialize_auth_client_context` over the precedence cases.

Both libraries run `bench/workers/choice.py` in the bench workspace (`tests/parity.py`): the same profiles on
disk, the same built-in profile provider (`PL_AUTH_BUILTIN_CONFIG_PROVIDER`), per case the same arguments,
`PL_*` variables and `~/.planet.json`. Compared per case: the auth client class, `profile_name()`, the
`Authorization` value of a static key, or that the call failed. Every difference must be listed in
`docs/differences.md` (`choice:` patterns), and every `choice:` entry must still be observed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.parity import Workspace, check_against_docs, parity_workspace

ISSUER = "http://127.0.0.1:9"  # never contacted: no case asks for a token

PROVIDER = """
import os


class ChoiceBuiltins:
    def namespace(self):
        return ""

    def builtin_client_authclient_config_dicts(self):
        return {
            "dev-m2m": {"client_type": "oidc_client_credentials_secret", "auth_server": os.environ["ISSUER"],
                        "client_id": "placeholder", "client_secret": "placeholder", "scopes": ["api.read"]},
            "dev-key": {"client_type": "static_apikey", "api_key": "builtin-key",
                        "bearer_token_prefix": "api-key"},
            "none": {"client_type": "none"},
        }

    def builtin_client_profile_aliases(self):
        return {"dev-default": "dev-key"}

    def builtin_default_profile_by_client_type(self):
        return {"oidc_client_credentials_secret": "dev-m2m"}

    def builtin_default_profile(self):
        return "dev-default"

    def builtin_trust_environments(self):
        return {"CUSTOM": None}
"""

P1 = {"client_type": "static_apikey", "api_key": "p1-key", "bearer_token_prefix": "api-key"}
P2 = {"client_type": "static_apikey", "api_key": "p2-key", "bearer_token_prefix": "api-key"}
SHADOW = {"client_type": "static_apikey", "api_key": "disk-key", "bearer_token_prefix": "api-key"}

# name -> (kwargs of initialize_auth_client_context, PL_* environment, ~/.planet.json or None)
CASES: dict[str, tuple[dict[str, Any], dict[str, str], dict[str, Any] | None]] = {
    "argument": ({"auth_profile_opt": "p1"}, {}, None),
    "argument upper case": ({"auth_profile_opt": "P1"}, {}, None),
    "argument over env": ({"auth_profile_opt": "p1"}, {"PL_AUTH_PROFILE": "p2"}, None),
    "argument missing": ({"auth_profile_opt": "nope"}, {}, None),
    "argument path": ({"auth_profile_opt": "../p1"}, {}, None),
    "client id and secret arguments": (
        {"auth_client_id_opt": "svc", "auth_client_secret_opt": "s3"},
        {},
        None,
    ),
    "client id argument alone": ({"auth_client_id_opt": "svc"}, {}, None),
    "api key argument": ({"auth_api_key_opt": "arg-key"}, {"PL_AUTH_PROFILE": "p2"}, None),
    "env profile": ({}, {"PL_AUTH_PROFILE": "p2"}, None),
    "env profile upper case": ({}, {"PL_AUTH_PROFILE": "P2"}, None),
    "env profile missing": ({}, {"PL_AUTH_PROFILE": "nope", "PL_API_KEY": "env-key"}, None),
    "env profile over config file": ({}, {"PL_AUTH_PROFILE": "p2"}, {"PL_AUTH_PROFILE": "p1"}),
    "config file profile": ({}, {}, {"PL_AUTH_PROFILE": "p1"}),
    "env client id and secret": ({}, {"PL_AUTH_CLIENT_ID": "svc", "PL_AUTH_CLIENT_SECRET": "s3"}, None),
    "env client id and secret over api key": (
        {},
        {"PL_AUTH_CLIENT_ID": "svc", "PL_AUTH_CLIENT_SECRET": "s3", "PL_API_KEY": "env-key"},
        None,
    ),
    "config file client id and secret": ({}, {}, {"PL_AUTH_CLIENT_ID": "svc", "PL_AUTH_CLIENT_SECRET": "s3"}),
    "env api key": ({}, {"PL_API_KEY": "env-key"}, None),
    "config file api key": ({}, {}, {"PL_API_KEY": "file-key"}),
    "config file old sdk key": ({}, {}, {"key": "old-key"}),
    "env api key over old sdk key": ({}, {"PL_API_KEY": "env-key"}, {"key": "old-key"}),
    "nothing: built-in default": ({}, {}, None),
    "use_env=False": ({"use_env": False}, {"PL_AUTH_PROFILE": "p2"}, {"PL_AUTH_PROFILE": "p1"}),
    "use_configfile=False": ({"use_configfile": False}, {}, {"PL_AUTH_PROFILE": "p1"}),
    "use_env=False and use_configfile=False": (
        {"use_env": False, "use_configfile": False},
        {"PL_API_KEY": "env-key"},
        {"PL_API_KEY": "file-key"},
    ),
    "built-in by name": ({"auth_profile_opt": "dev-key"}, {}, None),
    "built-in alias upper case": ({"auth_profile_opt": "DEV-DEFAULT"}, {}, None),
    "built-in shadowed by a profile on disk": ({"auth_profile_opt": "dev-m2m"}, {}, None),
    "empty env profile": ({}, {"PL_AUTH_PROFILE": ""}, {"PL_AUTH_PROFILE": "p1"}),
}


pytestmark = pytest.mark.wheel


@pytest.fixture(scope="module")
def ws() -> Iterator[Workspace]:
    for workspace in parity_workspace():
        provider = workspace.root / "provider"
        provider.mkdir()
        (provider / "choice_builtins.py").write_text(PROVIDER)
        for name, config in (("p1", P1), ("p2", P2), ("dev-m2m", SHADOW)):
            workspace.write_json(workspace.profile_dir(name) / "auth_client.json", config)
        yield workspace


def choices(ws: Workspace, lib: str) -> list[dict[str, Any]]:
    env = ws.env(
        ws.libs[lib],
        PYTHONPATH=str(ws.root / "provider"),
        PL_AUTH_BUILTIN_CONFIG_PROVIDER="choice_builtins.ChoiceBuiltins",
        ISSUER=ISSUER,
    )
    cases = [{"kwargs": k, "env": e, "planet_json": j} for k, e, j in CASES.values()]
    result: list[dict[str, Any]] = ws.worker(ws.libs[lib], "choice.py", {"cases": cases}, env=env)
    return result


def _show(choice: dict[str, Any]) -> str:
    if choice.get("error"):
        return "error"
    return f"{choice['client']} {choice['profile']}" + (f" {choice['header']}" if choice["header"] else "")


def test_the_same_credentials_as_planet_auth_or_documented(ws: Workspace) -> None:
    theirs, ours = choices(ws, "pa"), choices(ws, "ours")
    observed = []
    for case, a, b in zip(CASES, theirs, ours, strict=True):
        print(f"{case}: planet-auth {_show(a)} / ours {_show(b)}")
        if _show(a) != _show(b):
            observed.append(f"choice:{case}: {_show(a)} -> {_show(b)}")
    assert len(observed) < len(CASES) // 3, "most cases differ: the harness, not the libraries"
    check_against_docs("choice", observed)
