"""P9: a fleet sharing one profile, with and without the shared token cache on Redis (issue 13).

4 processes x 4 threads, each process with its own HOME (as on 4 hosts), call the dev server's protected API
through one client-credentials profile for `DURATION` s, with access tokens of `ACCESS_TTL` s: once without
the cache (every host gets its own tokens) and once with `PL_AUTH_TOKEN_CACHE_URL` pointing at a real
`redis-server` (one token per expiry, fleet-wide). Token requests per expiry = token requests / expiries,
expiries = DURATION / (ACCESS_TTL - refresh window) + 1 (the start). The per-request cost with the cache on is
P4's isolated `requests` hook cost (`bench/workers/per_request.py`) with the cache set, next to the same
without: a fresh token in memory never reaches Redis. planet-auth has no shared cache: ours only.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from _harness import ROOT, Lib, Workspace

from scenarios import AllSamples, Row, Samples, Scenario, at_most, compare, exactly
from scenarios._profiles import valid_token

ACCESS_TTL = 4
DURATION = 12.0
PROCESSES, THREADS = 4, 4


def _fleet_modules() -> tuple[Any, Any]:
    sys.path.insert(0, str(ROOT))
    from tests import fixtures_redis, fleet_workers

    return fixtures_redis, fleet_workers


def _expiries() -> float:
    """Token lifetimes in the run, plus the one at the start (as the fleet tests count them)."""
    sys.path.insert(0, str(ROOT))
    from tests.soak_workers import expected_refreshes

    return float(expected_refreshes(DURATION, ACCESS_TTL))


EXPIRIES = _expiries()


class FleetCache(Scenario):
    id = "P9"
    title = f"{PROCESSES} hosts x {THREADS} threads, {ACCESS_TTL} s tokens, {DURATION:g} s: cache off/on"
    libs = ("ours",)
    warmup = False
    max_rounds = 2  # each round costs 2 x DURATION

    def setup(self, ws: Workspace) -> None:
        fixtures_redis, self.fleet = _fleet_modules()
        self.server = ws.devserver(access_ttl=ACCESS_TTL)
        self.redis = fixtures_redis.RedisServer(Path(tempfile.mkdtemp(prefix="redis-", dir=ws.root)))
        self.redis.start()
        ws.stack.callback(self.redis.kill)
        self.notes: list[str] = []

    def _fleet(self, ws: Workspace, lib: Lib, cache: bool) -> dict[str, Any]:
        self.redis.client().flushall()
        root = Path(tempfile.mkdtemp(prefix="fleet-", dir=ws.root))
        result: dict[str, Any] = self.fleet.fleet_run(
            self.server,
            root,
            self.server.profile("oidc_client_credentials_secret", "cc-secret"),
            processes=PROCESSES,
            threads=THREADS,
            duration=DURATION,
            cache_url=self.redis.url if cache else None,
            python=str(lib.python),
            env_for=lambda home: ws.env(lib, HOME=str(home)),
        )
        if result["exceptions"]:
            self.notes.append(
                f"P9 cache {'on' if cache else 'off'}: worker exceptions {result['exceptions']}"
            )
        return result

    def measure(self, ws: Workspace, lib: Lib) -> Samples:
        out: Samples = {}
        for cache in (False, True):
            name = "on" if cache else "off"
            result = self._fleet(ws, lib, cache)
            out[f"requests {name}"] = [float(result["token_requests"])]
            out[f"per expiry {name}"] = [result["token_requests"] / EXPIRIES]
            out[f"failed {name}"] = [float(result["failed"])]
            out[f"calls {name}"] = [float(result["calls"])]
        config = self.server.profile("oidc_client_credentials_secret", "cc-secret")
        spec = {"config": config, "token": valid_token(), "n": 100_000, "repeats": 3, "e2e": 200}
        for cache in (False, True):
            extra = {"PL_AUTH_TOKEN_CACHE_URL": self.redis.url} if cache else {}
            before = self.redis.command_counts()
            got = ws.worker(lib, "per_request.py", spec, env=ws.env(lib, **extra))
            commands = sum(self.redis.command_counts().values()) - sum(before.values())
            name = "on" if cache else "off"
            out[f"hook {name}"] = got["requests"]
            if cache:
                out["redis commands on"] = [float(commands)]
        return out

    def rows(self, samples: AllSamples) -> list[Row]:
        rows = []
        for name, label in (("off", "no cache"), ("on", "Redis cache")):
            rows.append(compare("P9", f"token requests, {label}", "count", samples, f"requests {name}"))
            rows.append(
                compare(
                    "P9",
                    f"token requests per expiry ({EXPIRIES:g} expiries), {label}",
                    "count",
                    samples,
                    f"per expiry {name}",
                    digits=2,
                    check=at_most((EXPIRIES + 2) / EXPIRIES, "") if name == "on" else None,
                )
            )
            rows.append(
                compare(
                    "P9", f"failed API calls, {label}", "count", samples, f"failed {name}", check=exactly(0)
                )
            )
            rows.append(compare("P9", f"API calls made, {label}", "count", samples, f"calls {name}"))
        for name, label in (("off", "no cache"), ("on", "Redis cache")):
            rows.append(
                compare(
                    "P9",
                    f"requests: auth hook per call, above no auth, {label}",
                    "µs",
                    samples,
                    f"hook {name}",
                    digits=2,
                )
            )
        rows.append(
            compare(
                "P9",
                "Redis commands during 3 x 100k authenticated requests with a fresh token, cache on",
                "count",
                samples,
                "redis commands on",
                check=exactly(0),
            )
        )
        return rows
