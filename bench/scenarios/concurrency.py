"""P5: 50 threads and 200 coroutines on an expired token, against the real dev server.

The context is a client-credentials profile (`cc-secret`) seeded with a token whose `_exp` has passed, so
both libraries must renew before sending (a request sent with the old token would fail: the API checks
it). The server's `/_stats` counts token-endpoint requests and their errors; the worker counts API answers.
"""

from __future__ import annotations

import time

from _harness import Lib, Workspace

from scenarios import AllSamples, Row, Samples, Scenario, compare, exactly


class Concurrency(Scenario):
    id = "P5"
    title = "50 threads + 200 coroutines on an expired token (dev server)"
    warmup = False

    def setup(self, ws: Workspace) -> None:
        self.server = ws.devserver()
        self.notes: list[str] = []

    def measure(self, ws: Workspace, lib: Lib) -> Samples:
        server = self.server
        now = int(time.time())
        expired = {
            "token_type": "Bearer",
            "access_token": "expired-" + "x" * 40,
            "expires_in": 300,
            "_iat": now - 600,
            "_exp": now - 300,
        }
        spec = {
            "config": server.profile("oidc_client_credentials_secret", "cc-secret"),
            "token": expired,
            "url": server.hello_url,
            "threads": 50,
            "coroutines": 200,
        }
        server.reset_stats()
        out = ws.worker(lib, "concurrency.py", spec)
        stats = server.stats()
        if out["exception_types"]:
            self.notes.append(f"P5 {lib.label}: exceptions in workers: {', '.join(out['exception_types'])}")
        return {
            "token requests": [float(stats["token_requests"])],
            "token errors": [float(stats["token_errors"])],
            "api errors": [float(out["failed"] + out["exceptions"])],
            "seconds": [out["seconds"] * 1e3],
        }

    def rows(self, samples: AllSamples) -> list[Row]:
        return [
            compare("P5", "token-endpoint requests", "count", samples, "token requests", check=exactly(1)),
            compare("P5", "token-endpoint errors", "count", samples, "token errors", check=exactly(0)),
            compare("P5", "failed API requests (of 250)", "count", samples, "api errors", check=exactly(0)),
            compare("P5", "wall time for all 250 requests", "ms", samples, "seconds"),
        ]
