"""`make bench`: planet-profiles side by side with planet-auth 2.3.2 (PyPI), scenarios P1–P8 of issue 6.

    .venv/bin/python bench/run.py [--rounds N] [--only P1,P4] [--save FILE] [--ours-src DIR]

planet-auth is installed into its own venv, `bench/.venv-planet-auth/` (created on first use). Every scenario
runs for both libraries in the same run, alternating which goes first, for `--rounds` timed rounds after one
untimed warm-up round; the table gives medians with min–max and the ratio ours / planet-auth of the medians.
A target that is not met is marked MISSED. `--save` also writes the table, with the machine it ran on, as
Markdown. `--ours-src DIR` benchmarks a patched copy of the package tree (DIR goes first on `PYTHONPATH`).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import ROOT, Lib, Workspace, ours, planet_auth, workspace  # noqa: E402
from scenarios import AllSamples, Row, Scenario, all_scenarios  # noqa: E402


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, {platform.platform()}"


def run_scenario(scenario: Scenario, ws: Workspace, rounds: int) -> AllSamples:
    samples: AllSamples = {key: {} for key in scenario.libs}
    libs = [ws.libs[key] for key in scenario.libs]
    scenario.setup(ws)
    rounds = min(rounds, scenario.max_rounds or rounds) * scenario.rounds_factor
    first = 0 if scenario.warmup else 1
    for number in range(first, rounds + 1):
        order = libs if number % 2 else list(reversed(libs))
        for lib in order:
            got = scenario.measure(ws, lib)
            if number == 0:
                continue  # warm-up: fills __pycache__ and the page cache, not counted
            for figure, values in got.items():
                samples[lib.key].setdefault(figure, []).extend(values)
        print(f"  {scenario.id} round {number}/{rounds} done", file=sys.stderr, flush=True)
    return samples


def table(rows: list[Row], libs: dict[str, Lib]) -> list[str]:
    head = (
        f"| id | figure | unit | {libs['ours'].label} median (min–max) | {libs['pa'].label} median (min–max) "
        "| ratio ours/pa | target | verdict |"
    )
    lines = [head, "|---|---|---|--:|--:|--:|---|---|"]
    for row in rows:
        verdict = f"**{row.verdict}**" if row.verdict == "MISSED" else row.verdict
        lines.append(
            f"| {row.scenario} | {row.figure} | {row.unit} | {row.ours} | {row.pa} | {row.ratio} "
            f"| {row.target} | {verdict} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=5, help="timed rounds per scenario (default %(default)s)"
    )
    parser.add_argument("--only", default="", help="comma-separated scenario ids, e.g. P1,P4")
    parser.add_argument("--save", type=Path, help="also write the table as Markdown to this file")
    parser.add_argument("--ours-src", type=Path, help="benchmark this package tree instead (PYTHONPATH)")
    args = parser.parse_args(argv)
    wanted = {s.strip().upper() for s in args.only.split(",") if s.strip()}
    scenarios = [s for s in all_scenarios() if not wanted or s.id in wanted]
    if not scenarios:
        parser.error(f"no scenario among {args.only!r}")
    libs = {"ours": ours(args.ours_src.resolve() if args.ours_src else None), "pa": planet_auth()}
    started = time.time()
    load_before = os.getloadavg()[0]
    rows: list[Row] = []
    notes: list[str] = []
    with workspace(libs) as ws:
        for scenario in scenarios:
            print(f"{scenario.id}: {scenario.title}", file=sys.stderr, flush=True)
            samples = run_scenario(scenario, ws, args.rounds)
            rows.extend(scenario.rows(samples))
            notes.extend(getattr(scenario, "notes", []))
            if scenario.max_rounds is not None and scenario.max_rounds < args.rounds:
                notes.append(f"{scenario.id}: {scenario.max_rounds} timed rounds (its cap)")
            if scenario.rounds_factor > 1:
                timed = min(args.rounds, scenario.max_rounds or args.rounds) * scenario.rounds_factor
                notes.append(f"{scenario.id}: {timed} shorter timed rounds")
    header = [
        f"machine: {machine()}",
        f"rounds: {args.rounds} timed (+1 warm-up) per scenario, alternating order; "
        f"run took {time.time() - started:.0f} s; {time.strftime('%Y-%m-%d %H:%M %Z')}; "
        f"1-min load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
        f"(anything well above 0 means other work shared the {os.cpu_count()} CPUs)",
    ]
    if args.ours_src:
        header.append(f"ours from: {args.ours_src}")
    lines = [*header, "", *table(rows, libs)]
    if notes:
        lines += ["", *(f"- {note}" for note in notes)]
    text = "\n".join(lines)
    print(text)
    if args.save:
        args.save.write_text(text + "\n")
    missed = sum(row.verdict == "MISSED" for row in rows)
    print(f"\n{missed} target(s) missed" if missed else "\nall targets met", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
