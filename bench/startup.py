"""What the `planet_auth_utils` finder adds to every interpreter start (issue 9: at most 1 ms).

    .venv/bin/python bench/startup.py [--runs 300] [--wheel dist/planet_profiles-VERSION-py3-none-any.whl]

The wheel installs `planet_profiles_facade.pth`, which Python runs at every start: it imports
`_planet_profiles_facade` and appends one finder to `sys.meta_path`. This script makes a scratch venv (no
pip) with the built wheel installed without dependencies (the finder needs none) and measures:

1. `python -X importtime -c pass`: the import of `_planet_profiles_facade` as Python reports it (µs);
2. the wall time of `python -c pass` with the `.pth` in place and with it renamed away (the same venv
   otherwise), interleaved run by run, from spawn to exit.

It prints medians, means, and the difference with its 95 % confidence interval.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PTH = "planet_profiles_facade.pth"


def _venv(where: Path, wheel: Path) -> tuple[Path, Path]:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check", "--python", str(python)]
    subprocess.run([*pip, "install", "--no-deps", "--no-index", str(wheel)], check=True)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return python, Path(site)


def _start(python: Path, env: dict[str, str], cwd: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one `python -c pass`; CPU (user + system, from `wait4`) is less noisy."""
    start = time.perf_counter()
    child = subprocess.Popen([str(python), "-c", "pass"], env=env, cwd=cwd)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"python -c pass exited {child.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def _importtime(python: Path, env: dict[str, str], cwd: str) -> tuple[int, int]:
    err = subprocess.run(
        [str(python), "-X", "importtime", "-c", "pass"], env=env, cwd=cwd, capture_output=True, text=True
    ).stderr
    match = re.search(r"import time:\s+(\d+) \|\s+(\d+) \|\s+_planet_profiles_facade$", err, re.M)
    if not match:
        raise SystemExit("the .pth did not import _planet_profiles_facade:\n" + err)
    return int(match.group(1)), int(match.group(2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300, help="runs of `python -c pass` per variant")
    parser.add_argument("--wheel", type=Path, help="default: the one wheel in dist/")
    args = parser.parse_args()
    wheel = args.wheel or next(iter(sorted((ROOT / "dist").glob("planet_profiles-*.whl"))), None)
    if wheel is None:
        raise SystemExit("no wheel in dist/: run `make wheel-venvs` (or `make test`) first")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    with tempfile.TemporaryDirectory() as scratch:
        python, site = _venv(Path(scratch) / "venv", wheel)
        pth, off = site / PTH, site / (PTH + ".off")
        for _ in range(20):  # warm-up: bytecode caches, page cache
            _start(python, env, scratch)
        imports = [_importtime(python, env, scratch) for _ in range(60)]
        with_pth: list[tuple[float, float]] = []
        without: list[tuple[float, float]] = []
        for _ in range(args.runs):
            with_pth.append(_start(python, env, scratch))
            pth.rename(off)
            try:
                without.append(_start(python, env, scratch))
            finally:
                off.rename(pth)

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"wheel:   {wheel.name}")
    print(
        "-X importtime, _planet_profiles_facade (median of 60): "
        f"self {statistics.median(s for s, _ in imports):.0f} µs, "
        f"cumulative {statistics.median(c for _, c in imports):.0f} µs"
    )
    print(f"python -c pass, {args.runs} runs each, interleaved, in ms (CI: 95 % confidence interval):")
    print("  measure  with .pth (median / mean)   without (median / mean)   difference (median / mean ± CI)")
    for index, name in enumerate(("wall", "CPU")):
        a = [run[index] * 1e3 for run in with_pth]
        b = [run[index] * 1e3 for run in without]
        diffs = [x - y for x, y in zip(a, b, strict=True)]
        half = 1.96 * statistics.stdev(diffs) / len(diffs) ** 0.5
        print(
            f"  {name:<7}  {statistics.median(a):7.3f} / {statistics.fmean(a):7.3f}"
            f"          {statistics.median(b):7.3f} / {statistics.fmean(b):7.3f}"
            f"        {statistics.median(diffs):+.3f} / {statistics.fmean(diffs):+.3f} ± {half:.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
