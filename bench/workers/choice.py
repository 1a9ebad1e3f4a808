"""Worker (tests/test_choice_parity.py): which credentials `initialize_auth_client_context` picks, per case.

    python choice.py '{"cases": [{"kwargs": {...}, "env": {...}, "planet_json": {...} | null}, ...]}'

Runs every case in this process under either library: sets the case's `PL_*` variables (removing the
others) and writes (or removes) `~/.planet.json`, then calls
`planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context(**kwargs)`. Prints one JSON line: per
case `{"client": class name, "profile": profile_name(), "header": the Authorization value of a static key
or None}`, or `{"error": true}` when the call raised. No network: OIDC profiles are not asked for tokens.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

CASE_VARIABLES = ("PL_AUTH_PROFILE", "PL_AUTH_CLIENT_ID", "PL_AUTH_CLIENT_SECRET", "PL_API_KEY")


class Prepared:
    """What a requests-style `auth(request)` touches (a static key's authenticator sets one header)."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}

    def register_hook(self, event: str, hook: Any) -> None:
        pass


def main() -> None:
    spec = json.loads(sys.argv[1])
    import planet_auth_utils

    user_config = Path.home() / ".planet.json"
    results = []
    for case in spec["cases"]:
        for name in CASE_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(case["env"])
        if case["planet_json"] is None:
            user_config.unlink(missing_ok=True)
        else:
            user_config.write_text(json.dumps(case["planet_json"]))
        try:
            ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context(**case["kwargs"])
            client = type(ctx.auth_client()).__name__
            header = None
            if client == "StaticApiKeyAuthClient":
                request = Prepared()
                ctx.request_authenticator()(request)
                header = request.headers.get("Authorization")
            results.append({"client": client, "profile": ctx.profile_name(), "header": header})
        except Exception:  # noqa: BLE001 - the outcome being compared
            results.append({"error": True})
    print(json.dumps(results))


if __name__ == "__main__":
    main()
