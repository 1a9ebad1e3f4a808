"""A built-in profile provider for tests: the shape of planet-auth's `BuiltinConfigurationProviderInterface`.

It names the dev server that `TEST_BUILTIN_ISSUER` points at (set by the test that loads it).
"""

from __future__ import annotations

import os
from typing import Any


class DevBuiltins:
    def builtin_client_authclient_config_dicts(self) -> dict[str, dict[str, Any]]:
        issuer = os.environ["TEST_BUILTIN_ISSUER"]
        return {
            "dev-m2m": {
                "client_type": "oidc_client_credentials_secret",
                "auth_server": issuer,
                "client_id": "placeholder",
                "client_secret": "placeholder",
                "scopes": ["api.read"],
            },
            "dev-key": {"client_type": "static_apikey", "api_key": "static-test-key-123"},
        }

    def builtin_client_profile_aliases(self) -> dict[str, str]:
        return {"dev-default": "dev-key"}

    def builtin_default_profile_by_client_type(self) -> dict[str, str]:
        return {"oidc_client_credentials_secret": "dev-m2m"}

    def builtin_default_profile(self) -> str:
        return "dev-default"
