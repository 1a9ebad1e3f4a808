"""P6: 8 processes share one saved profile while the dev server rotates refresh tokens.

Access tokens live `ACCESS_TTL` s; every refresh rotates the refresh token, and reusing a rotated one fails
with `invalid_grant` and revokes the grant (oidc-provider). Each library gets its own profile
(`oidc_resource_owner`, client `ro-public`, no password saved) with a fresh token from a password grant made
by the driver, then 8 `bench/workers/rotate.py` processes call the protected API for `DURATION` s, started
together. The server's counters give the refreshes and their failures (HTTP ≥ 400 on the refresh_token
grant: `invalid_grant`); refreshes per expiry = refreshes / (DURATION / ACCESS_TTL).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from typing import Any

from _harness import WORKERS, Lib, Workspace, password_grant

from scenarios import AllSamples, Row, Samples, Scenario, compare, exactly

ACCESS_TTL = 5
DURATION = 15.0
PROCESSES = 8
SCOPES = ["openid", "offline_access", "api.read"]


class RotatingRefresh(Scenario):
    id = "P6"
    title = f"{PROCESSES} processes, rotating refresh tokens, access tokens of {ACCESS_TTL} s, {DURATION:g} s"
    warmup = False
    max_rounds = 3  # each round costs 2 x DURATION

    def setup(self, ws: Workspace) -> None:
        self.server = ws.devserver(access_ttl=ACCESS_TTL)
        self.notes: list[str] = []

    def _profile(self, ws: Workspace, lib: Lib) -> str:
        name = f"bench-rotate-{lib.key}"
        directory = ws.profile_dir(name)
        for stale in directory.iterdir():
            stale.unlink()
        config = {
            "client_type": "oidc_resource_owner",
            "auth_server": self.server.issuer,
            "client_id": "ro-public",
            "scopes": SCOPES,
            "username": self.server.username,
        }
        ws.write_json(directory / "auth_client.json", config)
        ws.write_json(directory / "token.json", password_grant(self.server, "ro-public", " ".join(SCOPES)))
        return name

    def measure(self, ws: Workspace, lib: Lib) -> Samples:
        spec = {"profile": self._profile(ws, lib), "url": self.server.hello_url, "duration": DURATION}
        argv = [str(lib.python), str(WORKERS / "rotate.py"), json.dumps(spec)]
        procs: list[tuple[subprocess.Popen[str], Any]] = []
        try:
            for _ in range(PROCESSES):
                err = tempfile.TemporaryFile(dir=ws.root)
                proc = subprocess.Popen(
                    argv,
                    env=ws.env(lib),
                    cwd=ws.cwd,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                )
                procs.append((proc, err))
            for proc, err in procs:
                assert proc.stdout is not None
                if proc.stdout.readline().strip() != "READY":
                    err.seek(0)
                    raise RuntimeError(f"P6 worker did not start:\n{err.read().decode()[-3000:]}")
            self.server.reset_stats()
            for proc, _ in procs:
                assert proc.stdin is not None
                proc.stdin.write("GO\n")
                proc.stdin.flush()
            results = []
            for proc, err in procs:
                out, _ = proc.communicate(timeout=DURATION + 120)
                if proc.returncode != 0:
                    err.seek(0)
                    raise RuntimeError(f"P6 worker failed:\n{err.read().decode()[-3000:]}")
                results.append(json.loads(out.strip().splitlines()[-1]))
        finally:
            for proc, err in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
                err.close()
        stats = self.server.stats()
        refreshes = stats["by_grant"].get("refresh_token", 0)
        calls = sum(r["calls"] for r in results)
        ok = sum(r["ok"] for r in results)
        exceptions: dict[str, int] = {}
        for r in results:
            for name, count in r["exceptions"].items():
                exceptions[name] = exceptions.get(name, 0) + count
        if exceptions:
            self.notes.append(f"P6 {lib.label}: worker exceptions {exceptions}")
        return {
            "invalid_grant": [float(stats["errors_by_grant"].get("refresh_token", 0))],
            "refreshes": [float(refreshes)],
            "per expiry": [refreshes / (DURATION / ACCESS_TTL)],
            "other grants": [float(stats["token_requests"] - refreshes)],
            "failed": [float(calls - ok)],
            "failed %": [100.0 * (calls - ok) / calls if calls else 0.0],
            "calls": [float(calls)],
        }

    def rows(self, samples: AllSamples) -> list[Row]:
        return [
            compare(
                "P6",
                "invalid_grant (failed refresh_token grants)",
                "count",
                samples,
                "invalid_grant",
                check=exactly(0),
            ),
            compare("P6", "refresh_token grants", "count", samples, "refreshes"),
            compare(
                "P6",
                f"refreshes per access-token expiry ({DURATION / ACCESS_TTL:g} expiries)",
                "count",
                samples,
                "per expiry",
                digits=2,
            ),
            compare("P6", "other token requests (re-logins)", "count", samples, "other grants"),
            compare("P6", "failed API calls", "count", samples, "failed"),
            compare("P6", "failed API calls, share of all calls", "%", samples, "failed %"),
            compare("P6", f"API calls made by the {PROCESSES} processes", "count", samples, "calls"),
        ]
