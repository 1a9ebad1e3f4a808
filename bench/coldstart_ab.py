"""P1's cold start for several revisions of planet-profiles side by side, each from its own wheel (issue 11).

    .venv/bin/python bench/coldstart_ab.py [--rounds 40] [--planet-auth] REV [REV ...]

REV is a git revision, or `.` for the working tree. Each is built into a wheel and installed with `[all]` from
the wheelhouse into a scratch venv without pip, as `make bench` installs `.venv-bench`. Every round runs, for
each revision in turn (and planet-auth 2.3.2 with `--planet-auth`), three fresh processes from a neutral
directory, with HOME holding P1's plaintext profile and its valid saved token:

- the P1 header child (`import planet_auth_utils, requests` → the profile → first header on a
  `requests.PreparedRequest`) and the floor child (`import requests`) of the same venv: wall and CPU time;
- the same program timing itself with `perf_counter` after `import requests`: import, load, first header.

It prints medians over the rounds: what each revision adds above its own floor (each round's header child
minus its floor child, wall and CPU), the in-process split, and with `--planet-auth` the ratio of the header
medians. Each round runs every revision in turn (its three children back to back), so a burst of other work
on this shared machine falls on all of them.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import ROOT, planet_auth, run_child, workspace
from scenarios._profiles import PLAIN, plain_profile
from scenarios.startup import HEADER, LOAD

WHEELHOUSE = ROOT / ".wheelhouse"
P1 = LOAD.format(name=PLAIN) + HEADER  # P1's header child
TIMED = (
    "import time, json, requests\n"
    "t0 = time.perf_counter()\n"
    "import planet_auth_utils\n"
    "t1 = time.perf_counter()\n"
    "auth = planet_auth_utils.PlanetAuthFactory.initialize_auth_client_context("
    f"auth_profile_opt={PLAIN!r}).request_authenticator()\n"
    "t2 = time.perf_counter()\n"
    "r = auth(requests.Request('GET', 'https://api.example.com/v1/x').prepare())\n"
    "t3 = time.perf_counter()\n"
    "print(json.dumps([(t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3]))\n"
)


def _venv(rev: str, scratch: Path) -> Path:
    """A venv with the wheel of `rev` (`.`: the working tree) and its `[all]` dependencies."""
    tag = "work" if rev == "." else hashlib.sha256(rev.encode()).hexdigest()[:12]  # any revision name
    source = ROOT
    if rev != ".":
        source = scratch / f"src-{tag}"
        archive = ["git", "-C", str(ROOT), "archive", "--prefix=src/", rev, "-o", f"{source}.tar"]
        subprocess.run(archive, check=True)
        subprocess.run(["tar", "-xf", f"{source}.tar", "-C", str(scratch)], check=True)
        (scratch / "src").rename(source)
    wheels = scratch / f"wheel-{tag}"
    pip = [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(source)], check=True)
    venv = scratch / f"venv-{tag}"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    wheel = next(wheels.glob("planet_profiles-*.whl"))
    python = venv / "bin" / "python"
    offline = ["--no-index", "--find-links", str(WHEELHOUSE)]
    subprocess.run([*pip, "--python", str(python), "install", *offline, f"{wheel}[all]"], check=True)
    return python


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revs", nargs="+", metavar="REV", help="git revisions; `.` is the working tree")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--planet-auth", action="store_true", help="also planet-auth 2.3.2's header child")
    args = parser.parse_args(argv)
    if not WHEELHOUSE.is_dir():
        parser.error("no .wheelhouse/: run `make install` (or `make test`) first")
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        pythons = {rev: _venv(rev, scratch) for rev in dict.fromkeys(args.revs)}  # each once
        ws = stack.enter_context(workspace({}))  # P1's HOME and scrubbed environment
        plain_profile(ws)
        env, home = ws.env(), ws.cwd
        pa = planet_auth().python if args.planet_auth else None
        over: dict[str, list[tuple[float, float]]] = {rev: [] for rev in pythons}
        header: dict[str, list[float]] = {rev: [] for rev in pythons}
        split: dict[str, list[list[float]]] = {rev: [] for rev in pythons}
        theirs: list[float] = []
        started = time.time()
        for _ in range(args.rounds):
            for rev, python in pythons.items():
                full = run_child([str(python), "-c", P1], env, home)
                floor = run_child([str(python), "-c", "import requests"], env, home)
                over[rev].append((full.seconds - floor.seconds, full.cpu_seconds - floor.cpu_seconds))
                header[rev].append(full.seconds)
                split[rev].append(json.loads(run_child([str(python), "-c", TIMED], env, home).stdout))
            if pa is not None:
                theirs.append(run_child([str(pa), "-c", P1], env, home).seconds)
        print(f"{args.rounds} rounds in {time.time() - started:.0f} s (medians; ms)")
        for rev in pythons:
            wall = statistics.median(w for w, _ in over[rev]) * 1e3
            cpu = statistics.median(c for _, c in over[rev]) * 1e3
            parts = [statistics.median(s[i] for s in split[rev]) for i in range(3)]
            line = (
                f"{rev:>12}: above the floor {wall:5.1f} wall / {cpu:5.1f} CPU | in process: import "
                f"{parts[0]:.2f}, load {parts[1]:.2f}, first header {parts[2]:.2f} ({sum(parts):.2f})"
            )
            if theirs:
                ratio = statistics.median(header[rev]) / statistics.median(theirs)
                line += f" | header {statistics.median(header[rev]) * 1e3:.0f} vs planet-auth "
                line += f"{statistics.median(theirs) * 1e3:.0f}: ratio {ratio:.3f}"
            print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
