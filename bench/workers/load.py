"""Worker (P2, P3): load a profile in process through the seed API, timed; runs under either library's venv.

    python load.py '{"profile": NAME, "warm": [NAME, ...], "iterations": N, "header": bool,
                     "sops_argv": [...]|null}'

The `warm` profiles are loaded once first (pay any lazy imports of the load path). `sops_argv`, when given,
is run once as a bare subprocess (the `sops decrypt` the library's load should cost) before the first timed
load. Prints one JSON line: `first_ms` (the first load of `profile`), `steady_ms` (each later load),
`sops_ms`. A load is `initialize_auth_client_context(auth_profile_opt=NAME).request_authenticator()`, plus,
with `header`, one call of the authenticator on a stand-in request (reads the saved token, sets the header).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any


class StandInRequest:
    """What a requests-style `auth(request)` may touch of a `PreparedRequest` (headers, response hooks)."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.hooks: dict[str, list[Any]] = {"response": []}

    def register_hook(self, event: str, hook: Any) -> None:
        self.hooks[event].append(hook)


def main() -> None:
    spec = json.loads(sys.argv[1])
    import planet_auth_utils

    factory = planet_auth_utils.PlanetAuthFactory

    def load(name: str, header: bool) -> float:
        start = time.perf_counter()
        auth = factory.initialize_auth_client_context(auth_profile_opt=name).request_authenticator()
        if header:
            request = StandInRequest()
            auth(request)
            if not request.headers.get("Authorization", "").startswith("Bearer "):
                raise SystemExit(f"no bearer header after loading {name}")
        return (time.perf_counter() - start) * 1e3

    out: dict[str, Any] = {}
    for name in spec.get("warm") or ():
        load(name, True)
    if spec.get("sops_argv"):
        start = time.perf_counter()
        subprocess.run(spec["sops_argv"], check=True, capture_output=True)
        out["sops_ms"] = (time.perf_counter() - start) * 1e3
    out["first_ms"] = load(spec["profile"], spec["header"])
    out["steady_ms"] = [load(spec["profile"], spec["header"]) for _ in range(spec.get("iterations", 0))]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
