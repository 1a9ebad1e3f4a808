"""P4: per-request overhead of the authenticator with a valid token (`bench/workers/per_request.py`).

The target is on the isolated hook cost (absolute µs above no auth, and no more than planet-auth's) for
requests and httpx sync; async is reported against the same limit. The end-to-end figures (an in-process
transport, no socket) put that overhead next to the HTTP libraries' own cost per request, which is some
hundred times larger; their difference is below the noise of this machine, so it is not shown.
"""

from __future__ import annotations

from _harness import Lib, Summary, Workspace, cell

from scenarios import AllSamples, Row, Samples, Scenario, compare, verdict
from scenarios._profiles import auth_code_config, valid_token

LIMIT_US = 1.0


class PerRequest(Scenario):
    id = "P4"
    title = "per-request overhead with a valid token (requests, httpx sync and async)"

    def measure(self, ws: Workspace, lib: Lib) -> Samples:
        spec = {"config": auth_code_config(), "token": valid_token(), "n": 100_000, "repeats": 3, "e2e": 2000}
        out: Samples = ws.worker(lib, "per_request.py", spec)
        return out

    def rows(self, samples: AllSamples) -> list[Row]:
        rows = []
        for name in ("requests", "httpx sync", "httpx async"):
            ours = Summary.of(samples["ours"].get(name, []))
            pa = Summary.of(samples["pa"].get(name, []))
            ok = ours is not None and ours.median <= LIMIT_US and (pa is None or ours.median <= pa.median)
            ratio = f"{ours.median / pa.median:.2f}" if ours and pa and pa.median > 0 else "n/a"
            rows.append(
                Row(
                    "P4",
                    f"{name}: auth hook per call, above no auth",
                    "µs",
                    cell(ours, 2),
                    cell(pa, 2),
                    ratio,
                    f"≤ {LIMIT_US:g} µs and ≤ planet-auth",
                    verdict(ok),
                )
            )
        for name in ("requests", "httpx sync", "httpx async"):
            rows.append(
                compare(
                    "P4", f"{name}: no-auth loop per call (baseline)", "µs", samples, f"{name} base", digits=2
                )
            )
        for name in ("e2e requests", "e2e httpx sync", "e2e httpx async"):
            label = name.removeprefix("e2e ")
            rows.append(
                compare(
                    "P4",
                    f"{label}: whole request, in-process transport, no auth",
                    "µs",
                    samples,
                    f"{name} base",
                )
            )
            rows.append(compare("P4", f"{label}: … the same with auth", "µs", samples, f"{name} total"))
        return rows
