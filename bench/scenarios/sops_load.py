"""P3: load an encrypted profile (`auth_client.sops.json`) vs a bare `sops decrypt` of the same file.

Each sample is one fresh worker process that first loads the plaintext profile and another encrypted one
(so every lazy import of the load path is paid: ours imports `subprocess` and the sops stage on its first
encrypted load), then times one bare `sops decrypt` of the file, then the first load of the encrypted
profile (`initialize_auth_client_context(...).request_authenticator()`), then a second load. A separate
row times that first load in a process that loaded only the plaintext profile before (imports included).
Our overhead above sops is `load − bare sops` of the same process. planet-auth 2.3.2 also reads `.sops.json`
profiles (it runs `sops -d FILE` from `PATH`); both find the same real sops binary first on `PATH`.

The "+ first header" variant also reads the encrypted token (`token.sops.json`), a second decryption. A run
through a counting `sops` wrapper gives the sops processes each library starts per load.
"""

from __future__ import annotations

import json
import os

from _harness import WORKERS, Lib, Summary, Workspace, cell, fmt, run_child

from scenarios import AllSamples, Row, Samples, Scenario, compare, verdict
from scenarios._profiles import plain_profile, sops_profile

PROCESSES = 3  # per library per round
TARGET_OVERHEAD = 0.15


class SopsLoad(Scenario):
    id = "P3"
    title = "encrypted profile load vs a bare `sops decrypt` of the same file"

    def setup(self, ws: Workspace) -> None:
        self.plain = plain_profile(ws)
        self.name = sops_profile(ws)
        self.warm_sops = sops_profile(ws, "bench-sops-warm")
        file = ws.home / ".planet" / self.name / "auth_client.sops.json"
        self.sops_argv = [str(ws.sops), "decrypt", "--input-type", "json", "--output-type", "json", str(file)]
        counting = ws.root / "counting-bin"
        counting.mkdir(exist_ok=True)
        self.log = ws.root / "sops-calls.log"
        wrapper = counting / "sops"
        wrapper.write_text(f'#!/bin/sh\necho "$*" >> {self.log}\nexec {ws.sops} "$@"\n')
        wrapper.chmod(0o755)
        self.counting_path = f"{counting}{os.pathsep}{ws.env()['PATH']}"

    def _spec(self, header: bool, sops: bool = True, warm_sops: bool = True) -> dict[str, object]:
        return {
            "profile": self.name,
            "warm": [self.plain, self.warm_sops] if warm_sops else [self.plain],
            "iterations": 1,
            "header": header,
            "sops_argv": self.sops_argv if sops else None,
        }

    def _count(self, ws: Workspace, lib: Lib, header: bool) -> float:
        self.log.write_text("")
        spec = {**self._spec(header, sops=False, warm_sops=False), "iterations": 0}  # (a plaintext warm-up)
        env = {**ws.env(lib), "PATH": self.counting_path}
        run_child([str(lib.python), str(WORKERS / "load.py"), json.dumps(spec)], env, ws.cwd)
        return float(len(self.log.read_text().splitlines()))

    def measure(self, ws: Workspace, lib: Lib) -> Samples:
        samples: Samples = {}
        for _ in range(PROCESSES):
            for header in (False, True):
                out = ws.worker(lib, "load.py", self._spec(header))
                tag = "header " if header else ""
                samples.setdefault(f"{tag}sops", []).append(out["sops_ms"])
                samples.setdefault(f"{tag}load", []).append(out["first_ms"])
                samples.setdefault(f"{tag}overhead", []).append(out["first_ms"] - out["sops_ms"])
                samples.setdefault(f"{tag}overhead %", []).append(
                    100 * (out["first_ms"] / out["sops_ms"] - 1)
                )
                samples.setdefault(f"{tag}again", []).extend(out["steady_ms"])
            cold = ws.worker(lib, "load.py", self._spec(False, warm_sops=False))
            samples.setdefault("cold load", []).append(cold["first_ms"])
        samples["calls"] = [self._count(ws, lib, header=False)]
        samples["header calls"] = [self._count(ws, lib, header=True)]
        return samples

    def rows(self, samples: AllSamples) -> list[Row]:
        def overhead_row(tag: str, label: str, target: bool) -> Row:
            ours = Summary.of(samples["ours"].get(f"{tag}overhead %", []))
            pa = Summary.of(samples["pa"].get(f"{tag}overhead %", []))
            ok = None
            if target:
                ok = ours is not None and ours.median <= 100 * TARGET_OVERHEAD
            return Row(
                "P3",
                label,
                "%",
                cell(ours),
                cell(pa),
                "",
                f"≤ {fmt(100 * TARGET_OVERHEAD)} %" if target else "",
                verdict(ok),
            )

        return [
            compare(
                "P3", "bare `sops decrypt` of auth_client.sops.json (in each worker)", "ms", samples, "sops"
            ),
            compare(
                "P3",
                "encrypted profile load (first of this profile, after another: imports warm)",
                "ms",
                samples,
                "load",
            ),
            compare("P3", "overhead above bare sops", "ms", samples, "overhead"),
            overhead_row("", "overhead above bare sops, relative", True),
            compare("P3", "sops processes per load", "count", samples, "calls", digits=0),
            compare("P3", "second load of the same profile in the process", "ms", samples, "again"),
            compare(
                "P3",
                "first encrypted load after plaintext loads only (sops-stage imports included)",
                "ms",
                samples,
                "cold load",
            ),
            compare("P3", "load + first header (token.sops.json too)", "ms", samples, "header load"),
            compare(
                "P3", "sops processes per load + first header", "count", samples, "header calls", digits=0
            ),
            overhead_row("header ", "load + first header, above one bare sops", False),
        ]
