"""P1 (cold start in a fresh process) and P2 (the same load in a running process).

P1 runs `python -c` with the seed's call, wall time from spawn to exit and the child's peak RSS:

    import planet_auth_utils, requests
    auth = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context(auth_profile_opt=NAME)
        .request_authenticator()

Both libraries read the saved token lazily, on the first request; the "+ first header" variant also applies
the authenticator to a `requests.PreparedRequest`, so the token file is read and the header built. Ours
runs from the wheel (`.venv-bench/`). For reference: the interpreter's own start (`python -c pass`) and the
floor of any requests program (`python -c "import requests"`) in each venv, and what each library adds to
that floor (the median over rounds of the header child minus the floor child of the same round).
"""

from __future__ import annotations

from _harness import Lib, Workspace, run_child

from scenarios import AllSamples, Row, Samples, Scenario, compare
from scenarios._profiles import plain_profile

REPEATS = 1  # children per figure per round: the libraries alternate after each set of 4 (one a figure)
ROUNDS_FACTOR = 12  # ... over 12 × --rounds rounds (60 samples a figure by default, about 80 s), so a burst
# of other work on this shared machine falls on both sides alike instead of on one library's block of
# children, and the medians move less from run to run (with 20 samples the ratio spread ±0.03 between runs)

LOAD = (
    "import planet_auth_utils, requests; "
    "auth = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context("
    "auth_profile_opt={name!r}).request_authenticator()"
)
HEADER = (
    "; r = auth(requests.Request('GET', 'https://api.example.com/v1/x').prepare()); "
    "assert r.headers['Authorization'].startswith('Bearer ')"
)


class ColdStart(Scenario):
    id = "P1"
    rounds_factor = ROUNDS_FACTOR
    title = "cold start: fresh process to a ready authenticator (plaintext profile, valid saved token)"

    def setup(self, ws: Workspace) -> None:
        self.name = plain_profile(ws)
        self.codes = {
            "start": "pass",
            "floor": "import requests",
            "load": LOAD.format(name=self.name),
            "header": LOAD.format(name=self.name) + HEADER.format(),
        }

    def measure(self, ws: Workspace, lib: Lib) -> Samples:
        samples: Samples = {}
        env = ws.env(lib)
        for _ in range(REPEATS):
            for key, code in self.codes.items():
                child = run_child([str(lib.python), "-c", code], env, ws.cwd)
                samples.setdefault(key, []).append(child.seconds * 1e3)
                samples.setdefault(f"{key} rss", []).append(child.max_rss_kib / 1024)
            # what the library adds to a requests program: this round's header child minus its floor child
            samples.setdefault("over floor", []).append(samples["header"][-1] - samples["floor"][-1])
        return samples

    def rows(self, samples: AllSamples) -> list[Row]:
        return [
            compare("P1", "`python -c pass` (interpreter + site, reference)", "ms", samples, "start"),
            compare("P1", '`python -c "import requests"` (the floor)', "ms", samples, "floor"),
            compare(
                "P1",
                "import (+ requests) + initialize + request_authenticator()",
                "ms",
                samples,
                "load",
                max_ratio=0.4,
            ),
            compare(
                "P1",
                "… + first header on a requests.PreparedRequest (token file read)",
                "ms",
                samples,
                "header",
                max_ratio=0.4,
            ),
            compare(
                "P1", "… above the floor (each round: that − `import requests`)", "ms", samples, "over floor"
            ),
            compare("P1", "peak RSS, import … request_authenticator()", "MiB", samples, "load rss"),
            compare("P1", "peak RSS, … + first header", "MiB", samples, "header rss"),
        ]


class InProcessLoad(Scenario):
    id = "P2"
    title = "in process after `import planet_auth_utils`: profile load to a ready authenticator"
    iterations = 30

    def setup(self, ws: Workspace) -> None:
        self.name = plain_profile(ws)

    def measure(self, ws: Workspace, lib: Lib) -> Samples:
        out = ws.worker(lib, "load.py", {"profile": self.name, "iterations": self.iterations, "header": True})
        return {"first": [out["first_ms"]], "steady": out["steady_ms"]}

    def rows(self, samples: AllSamples) -> list[Row]:
        return [
            compare("P2", "first load after import (lazy imports included)", "ms", samples, "first"),
            compare(
                "P2",
                f"later loads (each: initialize + authenticator + first header; {self.iterations}/process)",
                "ms",
                samples,
                "steady",
                digits=2,
                max_ratio=1.0,
            ),
        ]
