"""Worker (P6): one of 8 processes sharing a saved profile whose refresh tokens rotate (either venv).

    python rotate.py '{"profile": NAME, "url": URL, "duration": S}'

The loop of `tests/soak_workers.py hammer` (planet-profiles only), through the seed API so planet-auth runs
the same code: load the profile, print `READY`, wait for `GO` on stdin, then call `url` with
`requests` and the context's authenticator in a tight loop for `duration` seconds. Prints one JSON line:
`calls`, `ok` (HTTP 200), `statuses`, `exceptions` (by type).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter


def main() -> None:
    spec = json.loads(sys.argv[1])
    import requests

    import planet_auth_utils

    ctx = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context(auth_profile_opt=spec["profile"])
    auth = ctx.request_authenticator()
    session = requests.Session()
    session.trust_env = False
    statuses: Counter[int] = Counter()
    exceptions: Counter[str] = Counter()
    print("READY", flush=True)
    if sys.stdin.readline().strip() != "GO":
        raise SystemExit("no GO line")
    deadline = time.monotonic() + spec["duration"]
    while time.monotonic() < deadline:
        try:
            statuses[session.get(spec["url"], auth=auth, timeout=10).status_code] += 1
        except Exception as exc:  # noqa: BLE001 - every failure counts, by type
            exceptions[type(exc).__name__] += 1
            time.sleep(0.01)
    calls = sum(statuses.values()) + sum(exceptions.values())
    result = {
        "calls": calls,
        "ok": statuses[200],
        "statuses": {str(k): v for k, v in statuses.items()},
        "exceptions": dict(exceptions),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
