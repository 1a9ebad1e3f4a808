"""P7: validate 1000 profile files in one call of the `planet-profiles-validate` hook (ours only:
planet-auth has no validator). The files and the command come from `bench/bench_validate.py` (which also
compares with check-jsonschema): half plaintext, half `auth_client.sops.json` encrypted by real sops.
"""

from __future__ import annotations

import os

from _harness import Lib, Workspace, run_child

from scenarios import AllSamples, Row, Samples, Scenario, at_most, compare

FILES = 1000
TARGET_SECONDS = 1.0


class Validate(Scenario):
    id = "P7"
    title = f"validate {FILES} profile files (pre-commit hook, one call)"
    libs = ("ours",)

    def setup(self, ws: Workspace) -> None:
        import bench_validate

        self.work = ws.root / "p7"
        self.work.mkdir()
        plain, enc = bench_validate.make_tree(self.work, FILES)
        hook = bench_validate.hook_command("validate")
        files = sorted(os.path.relpath(f, self.work) for f in plain + enc)
        self.argv = {
            "all": [*hook, *files],
            "plain": [*hook, *(os.path.relpath(f, self.work) for f in plain)],
        }
        self.counts = {"all": len(files), "plain": len(plain)}

    def measure(self, ws: Workspace, lib: Lib) -> Samples:
        samples: Samples = {}
        for key, argv in self.argv.items():
            child = run_child(argv, ws.env(lib), self.work)
            samples[key] = [child.seconds]
            samples[f"{key} rss"] = [child.max_rss_kib / 1024]
        return samples

    def rows(self, samples: AllSamples) -> list[Row]:
        n_all, n_plain = self.counts["all"], self.counts["plain"]
        return [
            compare(
                "P7",
                f"{n_all} files ({n_plain} plaintext + {n_all - n_plain} sops), one hook call",
                "s",
                samples,
                "all",
                digits=3,
                check=at_most(TARGET_SECONDS, "s"),
            ),
            compare("P7", f"{n_plain} plaintext files only", "s", samples, "plain", digits=3),
            compare("P7", f"peak RSS, {n_all} files", "MiB", samples, "all rss"),
        ]
